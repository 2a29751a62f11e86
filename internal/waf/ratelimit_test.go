package waf

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// fakeClock drives a WAF's rate-based rule.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func withClock(w *WAF) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	w.now = c.now
	w.rate.start = c.now()
	return c
}

func TestRateLimit(t *testing.T) {
	s := newStack(t, shipped(func(w *topology.WAF) { w.RateLimit = topology.RateLimit{Limit: 10, Window: time.Minute} }))
	clock := withClock(s.waf)
	a, b := "198.51.100.7:4000", "[2001:db8::7]:4000"
	for i := range 10 {
		if rec := s.do(t, request{target: "/test", remote: a}); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, rec.Code)
		}
	}
	rec := s.do(t, request{target: "/test", remote: a})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("11th request: status %d, want 429", rec.Code)
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["title"] != "Too Many Requests" || p["status"] != float64(429) || p["request_id"] == "" {
		t.Errorf("problem %s (%v)", rec.Body, err)
	}
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 120 {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	// Another client is served meanwhile.
	if rec := s.do(t, request{target: "/test", remote: b}); rec.Code != http.StatusOK {
		t.Errorf("other client: status %d", rec.Code)
	}
	// Still refused just before Retry-After, served after it.
	clock.advance(time.Duration(retry-1) * time.Second)
	if rec := s.do(t, request{target: "/test", remote: a}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("before Retry-After: status %d", rec.Code)
	}
	clock.advance(2 * time.Minute)
	if rec := s.do(t, request{target: "/test", remote: a}); rec.Code != http.StatusOK {
		t.Errorf("two windows later: status %d", rec.Code)
	}
	st := s.waf.Stats()
	if st.RateLimited != 2 || st.Blocked != 0 || st.Allowed != 12 {
		t.Errorf("stats %+v", st)
	}
	recs := s.logs.records(t)
	if len(recs) != 2 || recs[0]["terminatingRuleId"] != ruleRateLimit || recs[0]["terminatingRuleType"] != "RATE_BASED" {
		t.Errorf("log records %v", recs)
	}
}

// TestRateLimitSliding checks the sliding estimate: the previous window's requests still count
// in proportion to its overlap with the sliding window.
func TestRateLimitSliding(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	rl := newRateLimiter(100, time.Minute, 1024, start)
	ip := netip.MustParseAddr("192.0.2.9")
	for i := range 100 {
		if ok, _ := rl.allow(ip, start.Add(time.Duration(i)*100*time.Millisecond)); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	// 45 s into the next window, the previous 100 weigh 25: 75 more fit, not 76.
	at := start.Add(time.Minute + 45*time.Second)
	for i := range 75 {
		if ok, _ := rl.allow(ip, at); !ok {
			t.Fatalf("request %d of the next window refused", i+1)
		}
	}
	if ok, retry := rl.allow(ip, at); ok || retry <= 0 || retry > 15*time.Second+time.Second {
		t.Fatalf("76th: ok=%v retry=%v, want refused with a retry within the window", ok, retry)
	}
}

// TestRateLimitIsolation: while one client floods from many goroutines, another client's
// requests are all served.
func TestRateLimitIsolation(t *testing.T) {
	s := newStack(t, shipped(func(w *topology.WAF) { w.RateLimit = topology.RateLimit{Limit: 50, Window: time.Minute} }))
	withClock(s.waf)
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if rec := s.do(t, request{target: "/test", remote: "203.0.113.66:1"}); rec.Code == http.StatusTooManyRequests {
					refused.Add(1)
				}
			}
		})
	}
	for i := range 50 {
		if rec := s.do(t, request{target: "/test", remote: "203.0.113.10:1"}); rec.Code != http.StatusOK {
			t.Errorf("quiet client request %d: status %d", i+1, rec.Code)
		}
	}
	wg.Wait()
	if refused.Load() != 800-50 {
		t.Errorf("flooder refused %d times, want %d", refused.Load(), 800-50)
	}
}

// TestRateLimitMemoryBound tracks 1,000,000 distinct IPs: the state is the table allocated up
// front (capacity × rateSlotSize bytes) and does not grow; a heavy hitter keeps its count
// while a million one-off addresses stream past.
func TestRateLimitMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates the full-size table")
	}
	var before, built, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Unix(1_000_000, 0)
	rl := newRateLimiter(100, 5*time.Minute, DefaultRateCapacity, start)
	runtime.GC()
	runtime.ReadMemStats(&built)
	table := int64(built.HeapAlloc) - int64(before.HeapAlloc)
	bound := int64(rl.capacity() * rateSlotSize)
	if rateSlotSize != 28 || rl.capacity() != DefaultRateCapacity {
		t.Errorf("slot %d B, capacity %d", rateSlotSize, rl.capacity())
	}
	if table > bound+bound/50 {
		t.Errorf("table takes %d B, want at most %d (+2%%)", table, bound)
	}
	heavy := netip.MustParseAddr("2001:db8::bad")
	now := start
	for range 150 {
		rl.allow(heavy, now)
	}
	for i := range 1_000_000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if ok, _ := rl.allow(ip, now); !ok {
			t.Fatalf("one-off address %s refused", ip)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(built.HeapAlloc); grown > 1<<20 {
		t.Errorf("heap grew by %d B while tracking a million IPs", grown)
	}
	if ok, _ := rl.allow(heavy, now); ok {
		t.Errorf("heavy hitter forgotten after a million one-off addresses")
	}
	t.Logf("rate-rule state for %d IPs: %d B (%.1f MiB), %d B per IP", rl.capacity(), table, float64(table)/(1<<20), rateSlotSize)
	runtime.KeepAlive(rl)
}

func BenchmarkRateLimit(b *testing.B) {
	rl := newRateLimiter(1000, 5*time.Minute, DefaultRateCapacity, time.Now())
	ips := make([]netip.Addr, 4096)
	for i := range ips {
		ips[i] = netip.MustParseAddr(fmt.Sprintf("10.0.%d.%d", i>>8, i&255))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		now := time.Now()
		for pb.Next() {
			rl.allow(ips[i&4095], now)
			i++
		}
	})
}
