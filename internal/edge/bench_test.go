package edge

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/decagon/decagon/internal/idp"
)

// rawBackend answers every request on a keep-alive connection with a fixed small JSON body,
// parsing nothing but the end of the head: a target that costs the benchmark next to nothing.
func rawBackend(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	const body = `{"test_id":"x","name":"y"}`
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					// A request without a body ends with an empty line.
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(bytes.TrimSpace(line)) == 0 {
							break
						}
					}
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// nopWriter is a reusable ResponseWriter that discards the body.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkServeGET measures the edge's own work for an authorized GET /Test/test/{id}:
// routing, throttling, the cached authorizer, parameter validation and the pooled forward to
// a target on loopback (whose cost is next to nothing), without net/http's server side.
func BenchmarkServeGET(b *testing.B) {
	addr := rawBackend(b)
	topo := parseTopology(b, testTopology)
	topo.Services[0].HealthCheck.Path = "/"                      // the raw backend answers anything
	if err := topo.OverrideStageThrottling(1e9, 0); err != nil { // measure the bucket, never refuse
		b.Fatal(err)
	}
	e, err := New(Config{
		Topology: topo, Verifier: newVerifier(b), Targets: map[string][]string{"tests": {addr}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	g, _ := e.Group("tests")
	if err := g.WaitHealthy(b.Context(), 1); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/Test/test/"+uuid1, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("Authorization", "Bearer "+mint(b, idp.MintOptions{}))
	req.Header.Set("X-Request-Id", "bench-request-id")
	req.Header.Set("User-Agent", "bench")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// benchEdge is an edge in front of a raw backend, for the benchmarks, and a token.
func benchEdge(b *testing.B) (*Edge, string) {
	addr := rawBackend(b)
	topo := parseTopology(b, testTopology)
	topo.Services[0].HealthCheck.Path = "/"                         // the raw backend answers anything
	if err := topo.OverrideStageThrottling(1e9, 5000); err != nil { // measure the bucket, never refuse
		b.Fatal(err)
	}
	e, err := New(Config{
		Topology: topo, Verifier: newVerifier(b), Targets: map[string][]string{"tests": {addr}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	g, _ := e.Group("tests")
	if err := g.WaitHealthy(b.Context(), 1); err != nil {
		b.Fatal(err)
	}
	return e, "Bearer " + mint(b, idp.MintOptions{})
}

// serveLoop serves the GET url through e until the benchmark ends.
func serveLoop(b *testing.B, e *Edge, url, token string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("Authorization", token)
	req.Header.Set("X-Request-Id", "bench-request-id")
	req.Header.Set("User-Agent", "bench")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// BenchmarkForwardPaths weighs the balancer's pooled Forward against httputil.ReverseProxy in
// the same run (issue 10, item 4), on an authorized GET /Test/test/{id}. Compare with
//
//	go test -run '^$' -bench ForwardPaths -benchmem -count 6 ./internal/edge > paths.txt
//	benchstat -col /forward paths.txt
func BenchmarkForwardPaths(b *testing.B) {
	e, tok := benchEdge(b)
	for _, v := range []struct {
		name  string
		plain bool
	}{{"pooled", false}, {"reverseproxy", true}} {
		b.Run("forward="+v.name, func(b *testing.B) {
			e.plainForward = v.plain
			serveLoop(b, e, "http://127.0.0.1:8080/Test/test/"+uuid1, tok)
		})
	}
}
