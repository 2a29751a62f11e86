// Package browsertest drives headless Chromium (Debian's chromium package) from tests with
// chromedp. Tests skip when the browser is missing, unless CI is set: then they fail, because
// CI must install it (apt-get install -y chromium).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package puts the browser.
const Chromium = "/usr/bin/chromium"

// Browser returns a chromedp context on a fresh headless Chromium, closed when t ends, with
// everything bounded by timeout. It skips t when Chromium is not installed and CI is unset.
func Browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s not found: install Debian's chromium package (apt-get install -y chromium) to run the browser test; with CI set this fails", Chromium)
		}
		t.Fatalf("%s not found and CI is set: CI must apt-get install -y chromium", Chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// WaitText polls the visible text of the element sel selects until ok accepts it, and returns
// it; t fails when within passes first.
func WaitText(t *testing.T, ctx context.Context, sel string, within time.Duration, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		s, err := chromedp.Run(actx, chromedp.Text(sel, chromedp.NodeVisible))
		cancel()
		if err == nil {
			last = strings.TrimSpace(s)
			if ok(last) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: last text %q did not become what the test waits for within %s", sel, last, within)
	return ""
}

// Click clicks the element sel selects, in one step inside the page: the dashboard re-renders
// its tables as it polls, so a node looked up first and clicked after may be gone by then.
func Click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		clicked, err := chromedp.Run(actx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && clicked {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("could not click %s", sel)
}

// Number parses a number the page shows ("12.5", "3%"); -1 when it is none.
func Number(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return -1
	}
	return f
}

// Screenshot saves a PNG of the whole page as name in t's artifact directory (kept with
// go test -artifacts -outputdir DIR) and returns its path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	return path
}
