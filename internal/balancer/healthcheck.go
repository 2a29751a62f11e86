package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// checkSettings refuses a health check the group cannot run. The settings are decoded,
// defaulted and validated once, by topology.Parse; the group takes them as they are and fills
// in nothing, so a zero value is an error here, never a silent default.
func checkSettings(h topology.HealthCheck) error {
	switch {
	case !strings.HasPrefix(h.Path, "/"):
		return fmt.Errorf("health check path %q does not start with '/'", h.Path)
	case h.Interval <= 0 || h.Timeout <= 0 || h.Timeout > h.Interval:
		return fmt.Errorf("health check interval %s and timeout %s: want both positive, timeout at most interval", h.Interval, h.Timeout)
	case h.HealthyThreshold < 1 || h.UnhealthyThreshold < 1:
		return fmt.Errorf("health check thresholds %d and %d: want at least 1", h.HealthyThreshold, h.UnhealthyThreshold)
	case h.Success.Empty():
		return errors.New("health check without success codes (topology.Parse provisions them)")
	}
	return nil
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
	if !g.check.Success.Contains(resp.StatusCode) {
		return fmt.Errorf("%w %d", errStatus, resp.StatusCode)
	}
	return nil
}
