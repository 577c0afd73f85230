// quicgo-peer: a quic-go (0.29) peer speaking roam's `perf` and `echo` protocols, for interop tests.
//
//	perf: the client opens a bidirectional stream, sends an 8-byte big-endian length N and FIN; the
//	      server answers with N bytes of the pattern perfByte(offset) and FIN.
//	echo: the server writes back everything the stream sends, then FIN.
//
// Server: quicgo-peer server [-listen 127.0.0.1:0] [-cert-out FILE] [-keylog FILE] [-retry]
// prints "listening on ADDR" once ready, then one line per served stream and per closed connection.
// Client: quicgo-peer client -addr HOST:PORT -alpn perf -perf N   (or -alpn echo -echo TEXT)
// prints one result line and exits 0 only when every byte matched.
//
// And HTTP/3, through quic-go's http3 package:
// h3-server [-listen 127.0.0.1:0] [-cert-out FILE] -root DIR: serves DIR (net/http's FileServer);
// prints "listening on ADDR" once ready, then "request PROTO METHOD PATH STATUS BYTES" per request.
// h3-client [-method GET|HEAD] [-out DIR] URL...: fetches the URLs concurrently (one connection per
// server), prints "URL: STATUS, N bytes, sha256 HEX" per URL and exits 0 only if every status is 2xx.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"

	quic "github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

// perfByte is the byte at offset of a perf response; it must equal roam::apps::perf_byte.
func perfByte(offset uint64) byte {
	return byte((offset * 131) ^ (offset >> 9) ^ (offset >> 17))
}

func perfFill(offset uint64, out []byte) {
	for i := range out {
		out[i] = perfByte(offset + uint64(i))
	}
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(1)
}

func openKeyLog(path string) io.Writer {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fatalf("cannot open key log %s: %v", path, err)
	}
	return f
}

// selfSigned makes a P-256 certificate for localhost, 127.0.0.1 and ::1, valid for one day.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, nil
}

func runServer(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to listen on (port 0: any free port)")
	certOut := fs.String("cert-out", "", "write the self-signed certificate (PEM) here")
	keylog := fs.String("keylog", "", "append TLS secrets here (NSS key log format)")
	retry := fs.Bool("retry", false, "send a Retry to every client (address validation)")
	fs.Parse(args)

	cert, der, err := selfSigned()
	if err != nil {
		fatalf("certificate: %v", err)
	}
	if *certOut != "" {
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(*certOut, pemBytes, 0o644); err != nil {
			fatalf("cannot write %s: %v", *certOut, err)
		}
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"perf", "echo"},
		KeyLogWriter: openKeyLog(*keylog),
	}
	conf := &quic.Config{MaxIdleTimeout: 30 * time.Second}
	if *retry {
		conf.RequireAddressValidation = func(net.Addr) bool { return true }
	}
	ln, err := quic.ListenAddr(*listen, tlsConf, conf)
	if err != nil {
		fatalf("listen on %s: %v", *listen, err)
	}
	fmt.Printf("listening on %s (quic-go, ALPN perf,echo, retry %v)\n", ln.Addr(), *retry)
	fmt.Printf("certificate SHA-256 %x\n", sha256.Sum256(der))
	for {
		c, err := ln.Accept(context.Background())
		if err != nil {
			fatalf("accept: %v", err)
		}
		go serveConn(c)
	}
}

func serveConn(c quic.Connection) {
	alpn := c.ConnectionState().TLS.NegotiatedProtocol
	fmt.Printf("connection from %s (ALPN %s)\n", c.RemoteAddr(), alpn)
	var sent uint64
	for {
		s, err := c.AcceptStream(context.Background())
		if err != nil {
			var appErr *quic.ApplicationError
			if errors.As(err, &appErr) {
				fmt.Printf("connection from %s closed by peer: application error %d (%q), %d bytes sent\n",
					c.RemoteAddr(), appErr.ErrorCode, appErr.ErrorMessage, atomic.LoadUint64(&sent))
			} else {
				fmt.Printf("connection from %s closed: %v, %d bytes sent\n", c.RemoteAddr(), err,
					atomic.LoadUint64(&sent))
			}
			return
		}
		go func() {
			n, err := serveStream(alpn, s)
			atomic.AddUint64(&sent, n)
			if err != nil {
				fmt.Printf("stream %d (%s): error after %d bytes: %v\n", s.StreamID(), alpn, n, err)
				return
			}
			fmt.Printf("stream %d (%s): sent %d bytes and FIN\n", s.StreamID(), alpn, n)
		}()
	}
}

// serveStream answers one request stream and returns the number of bytes written.
func serveStream(alpn string, s quic.Stream) (uint64, error) {
	switch alpn {
	case "perf":
		// The request is 8 bytes, then FIN: read to EOF so a longer request is an error.
		req, err := io.ReadAll(s)
		if err != nil {
			return 0, err
		}
		if len(req) != 8 {
			s.CancelWrite(1)
			return 0, fmt.Errorf("perf request of %d bytes, want 8", len(req))
		}
		n := binary.BigEndian.Uint64(req)
		buf := make([]byte, 64*1024)
		var off uint64
		for off < n {
			chunk := uint64(len(buf))
			if n-off < chunk {
				chunk = n - off
			}
			perfFill(off, buf[:chunk])
			w, err := s.Write(buf[:chunk])
			off += uint64(w)
			if err != nil {
				return off, err
			}
		}
		return off, s.Close()
	case "echo":
		n, err := io.Copy(s, s)
		if err != nil {
			return uint64(n), err
		}
		return uint64(n), s.Close()
	}
	s.CancelWrite(1)
	return 0, fmt.Errorf("unknown ALPN %q", alpn)
}

func runClient(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	addr := fs.String("addr", "", "server HOST:PORT")
	alpn := fs.String("alpn", "perf", "perf or echo")
	perfN := fs.Uint64("perf", 10_000_000, "perf: bytes to download")
	echoText := fs.String("echo", "hello from quic-go", "echo: text to send")
	sni := fs.String("sni", "localhost", "server name")
	keylog := fs.String("keylog", "", "append TLS secrets here (NSS key log format)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Parse(args)
	if *addr == "" {
		fatalf("client needs -addr HOST:PORT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	tlsConf := &tls.Config{
		InsecureSkipVerify: true,
		ServerName:         *sni,
		NextProtos:         []string{*alpn},
		KeyLogWriter:       openKeyLog(*keylog),
	}
	start := time.Now()
	c, err := quic.DialAddrContext(ctx, *addr, tlsConf, &quic.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		fatalf("handshake with %s: %v", *addr, err)
	}
	if got := c.ConnectionState().TLS.NegotiatedProtocol; got != *alpn {
		fatalf("negotiated ALPN %q, want %q", got, *alpn)
	}
	hs := time.Since(start)
	fmt.Printf("connected from %s to %s (ALPN %s)\n", c.LocalAddr(), c.RemoteAddr(), *alpn)
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		fatalf("open stream: %v", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	t0 := time.Now()
	switch *alpn {
	case "perf":
		var req [8]byte
		binary.BigEndian.PutUint64(req[:], *perfN)
		if _, err := s.Write(req[:]); err != nil {
			fatalf("write request: %v", err)
		}
		s.Close()
		buf := make([]byte, 256*1024)
		h := sha256.New()
		var got, bad uint64
		for {
			n, err := s.Read(buf)
			for i := 0; i < n; i++ {
				if buf[i] != perfByte(got+uint64(i)) {
					bad++
				}
			}
			h.Write(buf[:n])
			got += uint64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				fatalf("read after %d bytes: %v", got, err)
			}
		}
		secs := time.Since(t0).Seconds()
		c.CloseWithError(0, "done")
		if got != *perfN || bad != 0 {
			fatalf("received %d of %d bytes, %d wrong", got, *perfN, bad)
		}
		fmt.Printf("received %d bytes in %.3f s (handshake %.2f ms), sha256 %x, all bytes verified\n",
			got, secs, float64(hs.Microseconds())/1000, h.Sum(nil))
	case "echo":
		if _, err := s.Write([]byte(*echoText)); err != nil {
			fatalf("write: %v", err)
		}
		s.Close()
		back, err := io.ReadAll(s)
		c.CloseWithError(0, "done")
		if err != nil {
			fatalf("read echo: %v", err)
		}
		if string(back) != *echoText {
			fatalf("echo mismatch: sent %q, got %q", *echoText, back)
		}
		fmt.Printf("echo: %s (%.2f ms)\n", back, float64(time.Since(t0).Microseconds())/1000)
	default:
		fatalf("unknown ALPN %q (perf or echo)", *alpn)
	}
}

// loggingWriter records the status and body size of one HTTP response.
type loggingWriter struct {
	http.ResponseWriter
	status int
	bytes  uint64
}

func (w *loggingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += uint64(n)
	return n, err
}

func runH3Server(args []string) {
	fs := flag.NewFlagSet("h3-server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to listen on (port 0: any free port)")
	certOut := fs.String("cert-out", "", "write the self-signed certificate (PEM) here")
	keylog := fs.String("keylog", "", "append TLS secrets here (NSS key log format)")
	root := fs.String("root", "", "directory to serve")
	fs.Parse(args)
	if *root == "" {
		fatalf("h3-server needs -root DIR")
	}
	cert, der, err := selfSigned()
	if err != nil {
		fatalf("certificate: %v", err)
	}
	if *certOut != "" {
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(*certOut, pemBytes, 0o644); err != nil {
			fatalf("cannot write %s: %v", *certOut, err)
		}
	}
	files := http.FileServer(http.Dir(*root))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &loggingWriter{ResponseWriter: w}
		files.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		fmt.Printf("request %s %s %s %d %d\n", r.Proto, r.Method, r.URL.Path, lw.status, lw.bytes)
	})
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		fatalf("listen on %s: %v", *listen, err)
	}
	srv := &http3.Server{
		Handler:    handler,
		TLSConfig:  &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: openKeyLog(*keylog)},
		QuicConfig: &quic.Config{MaxIdleTimeout: 30 * time.Second},
	}
	fmt.Printf("listening on %s (quic-go http3, serving %s)\n", pc.LocalAddr(), *root)
	if err := srv.Serve(pc); err != nil {
		fatalf("serve: %v", err)
	}
}

func runH3Client(args []string) {
	fs := flag.NewFlagSet("h3-client", flag.ExitOnError)
	method := fs.String("method", "GET", "request method (GET, HEAD, or any other to see it refused)")
	outDir := fs.String("out", "", "save each body in DIR, named after the last path segment")
	keylog := fs.String("keylog", "", "append TLS secrets here (NSS key log format)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Parse(args)
	urls := fs.Args()
	if len(urls) == 0 {
		fatalf("h3-client needs at least one URL")
	}
	rt := &http3.RoundTripper{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, KeyLogWriter: openKeyLog(*keylog)},
		QuicConfig:      &quic.Config{MaxIdleTimeout: 30 * time.Second},
	}
	defer rt.Close()
	client := &http.Client{Transport: rt, Timeout: *timeout}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := false
	for _, u := range urls {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			line, ok := fetch(client, *method, u, *outDir)
			mu.Lock()
			defer mu.Unlock()
			fmt.Println(line)
			if !ok {
				failed = true
			}
		}(u)
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
}

// fetch makes one request and describes the outcome in one line.
func fetch(client *http.Client, method, u, outDir string) (string, bool) {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return fmt.Sprintf("error: %s: %v", u, err), false
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("error: %s: %v", u, err), false
	}
	defer resp.Body.Close()
	h := sha256.New()
	var sink io.Writer = h
	if outDir != "" && resp.StatusCode/100 == 2 {
		name := path.Base(req.URL.Path)
		if name == "/" || name == "." || name == "" {
			name = "index.html"
		}
		f, err := os.Create(path.Join(outDir, name))
		if err != nil {
			return fmt.Sprintf("error: %s: %v", u, err), false
		}
		defer f.Close()
		sink = io.MultiWriter(h, f)
	}
	n, err := io.Copy(sink, resp.Body)
	if err != nil {
		return fmt.Sprintf("error: %s: body after %d bytes: %v", u, n, err), false
	}
	line := fmt.Sprintf("%s: %s %d, %d bytes, sha256 %x, content-length %d, content-type %s", u, resp.Proto,
		resp.StatusCode, n, h.Sum(nil), resp.ContentLength, resp.Header.Get("Content-Type"))
	return line, resp.StatusCode/100 == 2
}

func main() {
	const usage = "usage: quicgo-peer server|client|h3-server|h3-client [flags]"
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		runServer(os.Args[2:])
	case "client":
		runClient(os.Args[2:])
	case "h3-server":
		runH3Server(os.Args[2:])
	case "h3-client":
		runH3Client(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}
