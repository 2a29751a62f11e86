package faulttest

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps the services' one log line per failed request (hundreds, by design, during an
// outage) out of the output unless -v asks for it.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}
