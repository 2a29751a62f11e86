// Command backend is the fixed small-JSON backend of the WAF benchmark: every request gets the
// same 200 JSON document, after its body has been read.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

const page = `{"items":[{"test_id":"0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10","name":"O'Brien's test","data":{"note":"select the best option"},"owner":"user-1","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}],"next_cursor":"eyJpZCI6IjEyMyJ9"}`

func main() {
	addr := flag.String("listen", "127.0.0.1:18081", "address to listen on")
	flag.Parse()
	body := []byte(page)
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
