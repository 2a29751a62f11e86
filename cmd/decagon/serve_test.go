package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// `decagon serve uploads` starts with its defaults: the directory store's public URL comes from
// --addr. Flags after the service name work too.
func TestServeUploadsDefaults(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "uploads", "--addr", addr, "--data-dir", t.TempDir(), "--drain", "0",
			"--auth-issuer", "https://issuer.example", "--auth-client-id", "c"}, &syncBuffer{}, stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health-check")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("health-check: %d", resp.StatusCode)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve uploads exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve uploads did not answer: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
}
