package edge

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket: up to burst tokens, refilled at rate per second; a request takes
// one token or is throttled.
type bucket struct {
	rate  float64 // tokens per second
	burst float64

	mu     sync.Mutex
	tokens float64
	last   int64 // monotonic nanoseconds of the last refill
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: nanotime()}
}

// take takes a token at now (monotonic nanoseconds). When none is left it returns false and
// the whole seconds until one will be, at least 1.
func (b *bucket) take(now int64) (ok bool, retryAfter int) {
	b.mu.Lock()
	if elapsed := now - b.last; elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+float64(elapsed)*b.rate/1e9)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.mu.Unlock()
		return true, 0
	}
	missing := 1 - b.tokens
	b.mu.Unlock()
	return false, max(1, int(math.Ceil(missing/b.rate)))
}

// epoch anchors nanotime to the monotonic clock.
var epoch = time.Now()

// nanotime is monotonic nanoseconds since the process started.
func nanotime() int64 { return int64(time.Since(epoch)) }
