// Command front is a minimal decagon-edge-like front for the WAF benchmark: request IDs, the
// WAF (CRS at paranoia level 1, block mode, a rate-based rule that the benchmark never reaches)
// and httputil.ReverseProxy to the backend over a keep-alive pool.
package main

import (
	"flag"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	_ "net/http/pprof"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/waf"
	"github.com/decagon/decagon/internal/web"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:18082", "address to listen on")
	backend := flag.String("backend", "http://127.0.0.1:18081", "backend URL")
	quiet := flag.Bool("quiet", true, "discard the WAF's log lines (nginx's error log goes to a file too)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (profiling)")
	flag.Parse()
	// As `decagon edge` runs: GOGC=400 unless the environment says otherwise.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if *pprofAddr != "" {
		go func() { log.Println(http.ListenAndServe(*pprofAddr, nil)) }()
	}

	var out io.Writer = os.Stderr
	if *quiet {
		out = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(out, nil))
	// decagon.yaml's defaults, with a rate-based rule the load cannot reach.
	settings := topology.DefaultWAF()
	settings.RateLimit.Limit = 2_000_000_000
	w, err := waf.New(waf.Config{WAF: settings}, logger)
	if err != nil {
		log.Fatal(err)
	}
	target, err := url.Parse(*backend)
	if err != nil {
		log.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           web.RequestIDs(logger, w.Middleware(proxy)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
