package balancer

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"
)

// fixedGroup is a group whose targets are set by hand, without health checks, so that Pick
// can be tested on every mix of states.
func fixedGroup(targets ...*Target) *Group {
	g := &Group{name: "fixed", logger: slog.New(slog.DiscardHandler), changes: make(chan struct{})}
	g.targets.Store(&targets)
	return g
}

// tgt is a target in a state with load requests outstanding; refused marks a target whose
// last check could not connect.
func tgt(id string, s State, load int64, refused bool) *Target {
	t := &Target{ID: id, Addr: id}
	t.state.Store(int32(s))
	t.outstanding.Store(load)
	t.refused.Store(refused)
	return t
}

// TestPick: a healthy target always wins over any other while one exists, the least loaded
// first; with none healthy the group fails open to its unhealthy targets that accept
// connections; initial, draining and refusing targets never get a request from Pick.
func TestPick(t *testing.T) {
	const (
		H = StateHealthy
		U = StateUnhealthy
		I = StateInitial
		D = StateDraining
	)
	tests := []struct {
		name    string
		targets []*Target
		except  int      // index of the target to skip, -1 for none
		want    []string // acceptable picks; empty means ErrNoHealthyTarget
	}{
		{"no target", nil, -1, nil},
		{"one healthy", []*Target{tgt("a", H, 0, false)}, -1, []string{"a"}},
		{"healthy beats less loaded unhealthy", []*Target{tgt("u", U, 0, false), tgt("h", H, 50, false)}, -1, []string{"h"}},
		{"healthy beats initial and draining", []*Target{tgt("i", I, 0, false), tgt("d", D, 0, false), tgt("h", H, 9, false)}, -1, []string{"h"}},
		{"least outstanding among healthy", []*Target{tgt("a", H, 3, false), tgt("b", H, 1, false), tgt("c", H, 2, false), tgt("u", U, 0, false)}, -1, []string{"b"}},
		{"ties rotate among healthy", []*Target{tgt("a", H, 1, false), tgt("b", H, 1, false), tgt("u", U, 0, false)}, -1, []string{"a", "b"}},
		{"except skips the healthy one: fail open", []*Target{tgt("h", H, 0, false), tgt("u", U, 0, false)}, 0, []string{"u"}},
		{"all unhealthy: fail open, least loaded", []*Target{tgt("a", U, 4, false), tgt("b", U, 2, false)}, -1, []string{"b"}},
		{"fail open skips refusing targets", []*Target{tgt("stopped", U, 0, true), tgt("b", U, 7, false)}, -1, []string{"b"}},
		{"fail open skips draining and initial", []*Target{tgt("d", D, 0, false), tgt("i", I, 0, false), tgt("u", U, 5, false)}, -1, []string{"u"}},
		{"only refusing targets", []*Target{tgt("a", U, 0, true), tgt("b", U, 0, true)}, -1, nil},
		{"only initial targets", []*Target{tgt("a", I, 0, false)}, -1, nil},
		{"only draining targets", []*Target{tgt("a", D, 0, false)}, -1, nil},
		{"a healthy target that refused once is still healthy", []*Target{tgt("h", H, 0, true), tgt("u", U, 0, false)}, -1, []string{"h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fixedGroup(tt.targets...)
			var except *Target
			if tt.except >= 0 {
				except = tt.targets[tt.except]
			}
			seen := map[string]bool{}
			for range 2 * (len(tt.targets) + 1) { // every rotation's starting point, twice
				before := map[string]int64{}
				for _, x := range tt.targets {
					before[x.ID] = x.Outstanding()
				}
				got, err := g.Pick(except)
				if len(tt.want) == 0 {
					if !errors.Is(err, ErrNoHealthyTarget) || got != nil {
						t.Fatalf("Pick = %v, %v; want ErrNoHealthyTarget", got, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Pick: %v", err)
				}
				if !slices.Contains(tt.want, got.ID) {
					t.Fatalf("Pick = %s (%s, %d outstanding), want one of %v", got.ID, got.State(), before[got.ID], tt.want)
				}
				if got.Outstanding() != before[got.ID]+1 {
					t.Fatalf("Pick did not count the request on %s", got.ID)
				}
				seen[got.ID] = true
				g.Release(got)
			}
			if len(tt.want) > 1 && len(seen) != len(tt.want) {
				t.Fatalf("ties went only to %v, want turns among %v", seen, tt.want)
			}
		})
	}
}

// TestFailOpen: when every target fails its health check (a database every replica needs is
// down), requests still reach them instead of a 503 from the balancer; a target that is gone
// (its listener closed) is not failed open to.
func TestFailOpen(t *testing.T) {
	g := newGroup(t, fast)
	a, b := newTarget(t), newTarget(t)
	_ = g.Register("a", a.addr())
	_ = g.Register("b", b.addr())
	waitState(t, g, "a", StateHealthy)
	waitState(t, g, "b", StateHealthy)
	a.status.Store(503)
	b.status.Store(503)
	waitState(t, g, "a", StateUnhealthy)
	waitState(t, g, "b", StateUnhealthy)
	for i := range 6 {
		req, _ := http.NewRequest("POST", "http://tests/x", http.NoBody)
		resp, err := g.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d with every target unhealthy: %v (want fail open)", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	// A stopped target (nothing listens) is left out once its check fails to connect.
	a.Close()
	refused := func() bool {
		for _, x := range g.Targets() {
			if x.ID == "a" {
				return x.refused.Load()
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !refused(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a's checks never found it refusing connections")
		}
	}
	for i := range 6 {
		req, _ := http.NewRequest("POST", "http://tests/x", http.NoBody)
		tr := &Trace{}
		resp, err := g.RoundTrip(req.WithContext(WithTrace(req.Context(), tr)))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if tr.Target != b.addr() || tr.Attempts != 1 {
			t.Fatalf("request %d went to %s in %d attempts, want %s at once", i, tr.Target, tr.Attempts, b.addr())
		}
	}
}
