// Command-line parsing shared by roam-server and roam-client: --help prints and exits 0; any
// usage mistake is one "error: ..." line and exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

namespace roam::apps {

inline constexpr int kExitUsage = 2;

// nullopt: go on; otherwise the process's exit code.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace roam::apps
