package dashboard

import (
	"sync"
	"time"
)

// Event kinds.
const (
	KindWAFBlock    = "waf_block"    // a WAF rule refused the request (403)
	KindWAFCount    = "waf_count"    // a WAF rule would have, in count mode
	KindRateLimited = "rate_limited" // the WAF's rate-based rule refused it (429)
	KindThrottled   = "throttled"    // stage or method throttling refused it (429)
)

// Event is one refusal shown on the page.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Rule   string    `json:"rule,omitempty"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Client string    `json:"client,omitempty"`
}

// maxPathLen bounds what an event keeps of a path: the page shows it, nothing else.
const maxPathLen = 200

// Events keeps the latest events in a ring. The zero value keeps DefaultEvents of them; it is
// safe for concurrent use.
type Events struct {
	Size int

	mu   sync.Mutex
	ring []Event
	next int
	full bool
}

// DefaultEvents is how many events the zero Events keeps.
const DefaultEvents = 50

// Add records e; a zero Time is now.
func (ev *Events) Add(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if len(e.Path) > maxPathLen {
		e.Path = e.Path[:maxPathLen] + "…"
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.ring == nil {
		n := ev.Size
		if n <= 0 {
			n = DefaultEvents
		}
		ev.ring = make([]Event, n)
	}
	ev.ring[ev.next] = e
	ev.next = (ev.next + 1) % len(ev.ring)
	if ev.next == 0 {
		ev.full = true
	}
}

// Latest returns the events newest first.
func (ev *Events) Latest() []Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	n := ev.next
	if ev.full {
		n = len(ev.ring)
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, ev.ring[(ev.next-i+len(ev.ring))%len(ev.ring)])
	}
	return out
}
