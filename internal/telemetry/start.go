package telemetry

import (
	"context"
	"time"
)

// shutdownTimeout bounds the flush of the last spans when a process stops.
const shutdownTimeout = 5 * time.Second

// Start is Setup for a command: it returns a stop function that flushes the last spans,
// bounded to 5 s, and never fails.
func Start(ctx context.Context, cfg Config) (stop func(), err error) {
	shutdown, err := Setup(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = shutdown(sctx)
	}, nil
}
