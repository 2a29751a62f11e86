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
// and stopping a task from the page shows its replacement there. Chromium comes from Debian's
// chromium package; without it the test skips, unless CI is set.
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

	// The tasks are processes: each row has its pid, and its CPU once measured.
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .pid`, 5*time.Second, func(v string) bool { return browsertest.Number(v) > 0 })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .cpu`, 10*time.Second, func(v string) bool { return strings.HasSuffix(v, "%") })
	browsertest.WaitText(t, ctx, `[data-service="tests"] .healthy`, 5*time.Second, func(v string) bool { return v == "2" })

	// Stopping a task from the page is ECS's StopTask: it drains and exits, and the scheduler
	// starts a replacement under a new ID, which the page shows healthy with the event.
	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="stop"]`)
	browsertest.WaitText(t, ctx, `tr[data-target="tests-3"] .health`, 20*time.Second, func(v string) bool { return v == "healthy" })
	browsertest.WaitText(t, ctx, `[data-service="tests"] .svc-events`, 5*time.Second, func(v string) bool {
		return strings.Contains(v, "task tests-1 stopped") && strings.Contains(v, "replaced by task tests-3")
	})
	browsertest.WaitText(t, ctx, `#groups`, 10*time.Second, func(v string) bool { return strings.Contains(v, "tests — 2 of 2 healthy") })
	browsertest.Screenshot(t, ctx, "dev-dashboard.png")
}
