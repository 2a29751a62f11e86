package decagon_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/decagon/decagon/"

// deps returns every package pattern's packages with their transitive dependencies:
// import path → dependencies, as go list -deps sees them on this platform.
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, pattern)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if len(m) == 0 {
		t.Fatalf("go list %s: no packages", pattern)
	}
	return m
}

// TestArchitecture keeps the package graph the design asks for (issue 10): the domain packages
// and the stores know nothing of HTTP, and no service package reaches into the edge or the load
// balancer. Its failure names the package and the forbidden dependency; `go list -deps` shows
// the path.
func TestArchitecture(t *testing.T) {
	rules := []struct {
		pattern   string   // a go list pattern
		forbidden []string // import paths none of its packages may depend on, even indirectly
		why       string
	}{
		{"./internal/records", []string{"net/http", module + "internal/problem", module + "internal/web"}, "a domain package holds types and rules, not HTTP"},
		{"./internal/uploads", []string{"net/http", module + "internal/problem", module + "internal/web", module + "internal/blob"}, "a domain package holds types and rules, not HTTP"},
		{"./internal/listing", []string{"net/http", module + "internal/problem", module + "internal/web"}, "a domain package holds types and rules, not HTTP"},
		{"./internal/store/...", []string{"net/http", module + "internal/problem", module + "internal/web"}, "stores return decagon errors; the HTTP side maps them"},
		{"./internal/records/...", []string{module + "internal/edge", module + "internal/balancer"}, "services never import the edge"},
		{"./internal/uploads/...", []string{module + "internal/edge", module + "internal/balancer"}, "services never import the edge"},
		{"./internal/store/...", []string{module + "internal/edge", module + "internal/balancer"}, "services never import the edge"},
	}
	for _, r := range rules {
		for pkg, ds := range deps(t, r.pattern) {
			for _, f := range r.forbidden {
				if slices.Contains(ds, f) {
					t.Errorf("%s depends on %s: %s (go list -deps %s)", pkg, f, r.why, pkg)
				}
			}
		}
	}
}
