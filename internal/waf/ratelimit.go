package waf

import (
	"hash/maphash"
	"math"
	"math/bits"
	"net/netip"
	"sync"
	"time"
	"unsafe"
)

// rateLimiter is the rate-based rule: requests per client IP over a sliding window,
// approximated AWS-WAF-like with two fixed buckets per IP (the current window's count and the
// previous one's, weighted by how much of it still overlaps the sliding window).
//
// Memory is fixed: a table of capacity slots of rateSlotSize bytes each (28 B; 28 MiB for the
// default 1,048,576), allocated once and never grown. The table is split into shards, each
// with its own mutex, so requests of different clients almost never wait on each other and a
// flooding client only ever holds its own shard for a few nanoseconds. Inside a shard an IP
// hashes to a set of rateWays slots; a new IP takes an empty slot of its set, else one whose
// counts have expired (idle for two windows), else the one with the lowest estimate — so under
// an address flood past capacity the heavy hitters keep their counts and the one-off
// addresses are the ones forgotten.
type rateLimiter struct {
	limit   uint32
	window  time.Duration
	start   time.Time
	seed    maphash.Seed
	shards  []rateShard
	setMask uint64 // sets per shard - 1
}

const (
	rateShards = 256 // power of two
	rateWays   = 8   // slots per set
)

// rateSlot is one IP's counts. epoch is the index of the window cur counts, plus one (zero
// marks an empty slot).
type rateSlot struct {
	key   [16]byte
	epoch uint32
	cur   uint32
	prev  uint32
}

// rateSlotSize is the size of one tracked IP's state.
const rateSlotSize = int(unsafe.Sizeof(rateSlot{}))

type rateShard struct {
	mu    sync.Mutex
	slots []rateSlot
	_     [40]byte // keep shards' mutexes on separate cache lines
}

func newRateLimiter(limit int, window time.Duration, capacity int, start time.Time) *rateLimiter {
	perShard := (capacity + rateShards - 1) / rateShards
	sets := 1 << bits.Len(uint((perShard+rateWays-1)/rateWays-1)) // round up to a power of two
	rl := &rateLimiter{
		limit:   uint32(min(limit, math.MaxUint32)),
		window:  window,
		start:   start,
		seed:    maphash.MakeSeed(),
		shards:  make([]rateShard, rateShards),
		setMask: uint64(sets - 1),
	}
	all := make([]rateSlot, rateShards*sets*rateWays) // one allocation: the whole bound
	for i := range rl.shards {
		rl.shards[i].slots = all[i*sets*rateWays : (i+1)*sets*rateWays : (i+1)*sets*rateWays]
	}
	return rl
}

// capacity returns the number of slots.
func (rl *rateLimiter) capacity() int { return len(rl.shards) * len(rl.shards[0].slots) }

// allow counts a request from addr at now and reports whether it is within the limit; when it
// is not, retry says how long until a request from addr would be.
func (rl *rateLimiter) allow(addr netip.Addr, now time.Time) (ok bool, retry time.Duration) {
	key := addr.As16()
	h := maphash.Comparable(rl.seed, key)
	sh := &rl.shards[h&(rateShards-1)]
	set := int((h>>8)&rl.setMask) * rateWays

	elapsed := max(now.Sub(rl.start), 0)
	epoch := uint32(elapsed/rl.window) + 1
	frac := float64(elapsed%rl.window) / float64(rl.window)

	sh.mu.Lock()
	slots := sh.slots[set : set+rateWays : set+rateWays]
	s := rl.find(slots, key, epoch, frac)
	if s.cur < math.MaxUint32 {
		s.cur++ // AWS WAF counts refused requests too: a client keeps flooding, it stays out
	}
	cur, prev := float64(s.cur), float64(s.prev)
	sh.mu.Unlock()

	limit := float64(rl.limit)
	if prev*(1-frac)+cur <= limit {
		return true, 0
	}
	w := rl.window.Seconds()
	var wait float64 // seconds until the estimate drops below the limit
	if cur >= limit {
		// Only the next window's decay of cur can bring it under.
		wait = (1-frac)*w + (1-limit/cur)*w
	} else {
		wait = (1 - (limit-cur)/prev - frac) * w
	}
	return false, time.Duration(math.Ceil(max(wait, 1))) * time.Second
}

// find returns key's slot in its set, rolled to epoch, taking one over when key has none.
func (rl *rateLimiter) find(slots []rateSlot, key [16]byte, epoch uint32, frac float64) *rateSlot {
	victim, victimEst := -1, math.Inf(1)
	for i := range slots {
		s := &slots[i]
		if s.epoch != 0 && s.key == key {
			roll(s, epoch)
			return s
		}
		est := 0.0
		switch {
		case s.epoch == 0 || s.epoch+1 < epoch: // empty, or idle for two windows
		case s.epoch == epoch:
			est = float64(s.prev)*(1-frac) + float64(s.cur)
		default: // s.epoch == epoch-1
			est = float64(s.cur) * (1 - frac)
		}
		if est < victimEst {
			victim, victimEst = i, est
		}
	}
	s := &slots[victim]
	*s = rateSlot{key: key, epoch: epoch}
	return s
}

// roll moves s's buckets forward to epoch.
func roll(s *rateSlot, epoch uint32) {
	switch {
	case s.epoch == epoch:
	case s.epoch+1 == epoch:
		s.prev, s.cur = s.cur, 0
	default:
		s.prev, s.cur = 0, 0
	}
	s.epoch = epoch
}
