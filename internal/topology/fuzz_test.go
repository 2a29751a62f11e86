package topology

import (
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts is valid and matches.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../decagon.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(""))
	f.Add([]byte("services: [{name: a, <<: {cpu: 1}}]"))
	f.Add([]byte("a: &a [*a]\nservices: *a"))
	f.Add([]byte("stage: {throttling: {methods: {'GET /x': {rateLimit: 1e400}}}}"))
	f.Add([]byte("services:\n  - name: tests\n    healthCheck: {interval: -5s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse(data)
		if err != nil {
			return
		}
		if len(topo.Services) == 0 {
			t.Fatal("accepted a topology without services")
		}
		for _, s := range topo.Services {
			// Parse provisions what it validated: the success codes, parsed once, say what
			// their text says.
			if s.HealthCheck.Success.Empty() {
				t.Fatalf("service %s: success codes %q not provisioned", s.Name, s.HealthCheck.SuccessCodes)
			}
			if again, err := ParseStatusCodes(s.HealthCheck.Success.String()); err != nil || again.String() != s.HealthCheck.Success.String() {
				t.Fatalf("service %s: success codes %q do not round-trip: %q, %v", s.Name, s.HealthCheck.SuccessCodes, again, err)
			}
			for _, r := range s.PathRules {
				for _, p := range r.Paths {
					if !MatchPattern(p, p) && !containsWildcard(p) {
						t.Fatalf("pattern %q does not match itself", p)
					}
				}
			}
		}
		topo.Match("/test/1")
	})
}

func containsWildcard(p string) bool {
	for i := range len(p) {
		if p[i] == '*' || p[i] == '?' {
			return true
		}
	}
	return false
}
