package records

import (
	"context"
	"log/slog"
	"time"
)

// PurgeLoop deletes s's idempotency keys older than IdempotencyTTL every interval until ctx is
// done. now is the clock (nil means time.Now).
func PurgeLoop(ctx context.Context, s Store, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := s.PurgeIdempotencyKeys(pctx, now().Add(-IdempotencyTTL))
		cancel()
		if err != nil {
			logger.Warn("purge idempotency keys", "err", err)
		} else if n > 0 {
			logger.Info("purged idempotency keys", "count", n)
		}
	}
}
