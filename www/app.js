// roam demo site: shows which protocol (Resource Timing's nextHopProtocol: "h3" for HTTP/3)
// carried the page and each of its resources.
"use strict";
function show() {
  const nav = performance.getEntriesByType("navigation")[0];
  document.getElementById("page-protocol").textContent = nav ? nav.nextHopProtocol : "unknown";
  const body = document.querySelector("#protocols tbody");
  for (const r of performance.getEntriesByType("resource")) {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = new URL(r.name).pathname;
    const proto = document.createElement("td");
    proto.textContent = r.nextHopProtocol;
    row.append(name, proto);
    body.append(row);
  }
  document.getElementById("status").textContent = "script ran; page protocol: " + (nav ? nav.nextHopProtocol : "unknown");
}
if (document.readyState === "complete") show(); else window.addEventListener("load", show);
