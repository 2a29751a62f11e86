package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/web"
)

// ServeAdmin serves GET /metrics from g on addr — an address of its own, never one the load
// balancer routes — until ctx is done. An empty addr or a nil g serves nothing. The listener is
// open when ServeAdmin returns.
func ServeAdmin(ctx context.Context, addr string, g prometheus.Gatherer, logger *slog.Logger) error {
	if addr == "" || g == nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(g))
	logger.Info("admin serving", "addr", ln.Addr().String(), "metrics", "/metrics")
	go func() {
		if err := web.Serve(ctx, web.NewServer(mux, logger), ln, 0, nil, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin server", "err", err)
		}
	}()
	return nil
}
