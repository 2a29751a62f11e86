package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HealthCheck is an ALB target group health check.
type HealthCheck struct {
	// Path is the request path ("/health-check").
	Path string
	// Interval is the time between two checks of one target.
	Interval time.Duration
	// Timeout fails a check that has no response by then; at most Interval.
	Timeout time.Duration
	// HealthyThreshold is the number of consecutive successes that make a target healthy.
	HealthyThreshold int
	// UnhealthyThreshold is the number of consecutive failures that make a target unhealthy.
	UnhealthyThreshold int
	// SuccessCodes are inclusive ranges of status codes that count as success; 200 when empty.
	SuccessCodes [][2]int
}

func (h HealthCheck) withDefaults() (HealthCheck, error) {
	if h.Path == "" {
		h.Path = "/health-check"
	}
	if h.Path[0] != '/' {
		return h, fmt.Errorf("health check path %q does not start with '/'", h.Path)
	}
	if h.Interval <= 0 {
		h.Interval = time.Second
	}
	if h.Timeout <= 0 || h.Timeout > h.Interval {
		h.Timeout = h.Interval
	}
	if h.HealthyThreshold <= 0 {
		h.HealthyThreshold = 2
	}
	if h.UnhealthyThreshold <= 0 {
		h.UnhealthyThreshold = 2
	}
	if len(h.SuccessCodes) == 0 {
		h.SuccessCodes = [][2]int{{200, 200}}
	}
	return h, nil
}

// success reports whether code is one of the success codes.
func (h HealthCheck) success(code int) bool {
	for _, r := range h.SuccessCodes {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// newCheckClient returns the client of health checks. Every check opens a new connection, as
// an ALB's do, so a target whose listener is closed fails its next check at once instead of
// on a pooled connection.
func newCheckClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// runChecks checks t at once and then every interval until t stops, applying the thresholds.
func (g *Group) runChecks(t *Target) {
	defer g.wg.Done()
	url := "http://" + t.Addr + g.check.Path
	ok, fail := 0, 0
	tick := time.NewTicker(g.check.Interval)
	defer tick.Stop()
	for {
		err := g.checkOnce(t, url)
		t.refused.Store(err != nil && isDialError(err))
		if err == nil {
			ok, fail = ok+1, 0
			if ok >= g.check.HealthyThreshold && t.State() != StateHealthy {
				g.setStateUnlessDraining(t, StateHealthy, fmt.Sprintf("%d consecutive checks passed", ok))
			}
		} else {
			ok, fail = 0, fail+1
			if fail >= g.check.UnhealthyThreshold && t.State() != StateUnhealthy {
				g.setStateUnlessDraining(t, StateUnhealthy, fmt.Sprintf("%d consecutive checks failed: %v", fail, err))
			}
		}
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
	}
}

// setStateUnlessDraining changes t's state unless it was deregistered meanwhile.
func (g *Group) setStateUnlessDraining(t *Target, to State, why string) {
	for {
		cur := t.state.Load()
		if State(cur) == StateDraining || State(cur) == to {
			return
		}
		if t.state.CompareAndSwap(cur, int32(to)) {
			g.logger.Info("target health changed", "target", t.ID, "addr", t.Addr,
				"from", State(cur).String(), "to", to.String(), "reason", why)
			g.notify()
			return
		}
	}
}

var errStatus = errors.New("unexpected status")

// checkOnce runs one health check of t.
func (g *Group) checkOnce(t *Target, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), g.check.Timeout)
	defer cancel()
	go func() { // a stopped target must not wait for its check's timeout
		select {
		case <-t.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := g.checker.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if !g.check.success(resp.StatusCode) {
		return fmt.Errorf("%w %d", errStatus, resp.StatusCode)
	}
	return nil
}
