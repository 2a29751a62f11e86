package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// NewServer returns an http.Server hardened against slow and oversized clients. Read of whole
// bodies is not bounded here (uploads stream for long), but headers and idle connections are.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve runs srv on ln until ctx is done, then drains: onDrain is called (health checks start
// failing so the load balancer stops sending), the server keeps serving for drain, and then
// shuts down gracefully, waiting up to shutdownTimeout for in-flight requests.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, drain time.Duration, onDrain func(), logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	if onDrain != nil {
		onDrain()
	}
	if drain > 0 {
		logger.Info("draining", "addr", ln.Addr().String(), "drain", drain.String())
		select {
		case <-time.After(drain):
		case err := <-errc:
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
	}
	const shutdownTimeout = 30 * time.Second
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown %s: %w", ln.Addr(), err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	logger.Info("stopped", "addr", ln.Addr().String())
	return nil
}
