package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/decagon/decagon/internal/dashboard/browsertest"
)

// The dashboard of `decagon dev` in headless Chromium while traffic flows: the numbers move,
// and stopping a replica from the page shows it out of service there, and starting it brings
// it back. Chromium comes from Debian's chromium package; without it the test skips, unless CI
// is set.
func TestDevDashboardInBrowser(t *testing.T) {
	ctx := browsertest.Browser(t, 50*time.Second)
	s := startDev(t, t.TempDir())
	token := s.token("--user", "alice")

	// Gentle traffic: under the stage's throttling and the WAF's rate-based rule.
	tctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 5 * time.Second}
		for tctx.Err() == nil {
			req, _ := http.NewRequestWithContext(tctx, "GET", s.url+"/test", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			select {
			case <-tctx.Done():
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { stop(); wg.Wait() })

	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/_dev/"), chromedp.WaitVisible(`tr[data-target="tests-1"]`)); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	browsertest.WaitText(t, ctx, "#rps", 10*time.Second, func(v string) bool { return browsertest.Number(v) > 0 })
	first := browsertest.Number(browsertest.WaitText(t, ctx, "#total", 5*time.Second, func(v string) bool { return browsertest.Number(v) > 0 }))
	browsertest.WaitText(t, ctx, "#total", 10*time.Second, func(v string) bool { return browsertest.Number(v) > first })
	browsertest.WaitText(t, ctx, "#p99", 5*time.Second, func(v string) bool { return browsertest.Number(v) > 0 })
	browsertest.WaitText(t, ctx, `tr[data-route="GET /test"] .requests`, 5*time.Second, func(v string) bool { return browsertest.Number(v) > 0 })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 5*time.Second, func(v string) bool { return v == "healthy" })

	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="stop"]`)
	out := func(v string) bool { return v == "stopped" || v == "unhealthy" }
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 5*time.Second, out)
	browsertest.WaitText(t, ctx, `tr[data-target="tests-2"] .health`, time.Second, func(v string) bool { return v == "healthy" })
	browsertest.WaitText(t, ctx, `#groups`, 5*time.Second, func(v string) bool { return strings.Contains(v, "tests — 1 of 2 healthy") })
	browsertest.Screenshot(t, ctx, "dev-dashboard.png")

	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="start"]`)
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 15*time.Second, func(v string) bool { return v == "healthy" })
}
