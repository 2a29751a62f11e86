package waf

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

func TestIPSets(t *testing.T) {
	cfg := shipped(func(w *topology.WAF) {
		w.IPSets.Allow = []string{"198.51.100.0/24", "2001:db8:a::/48", "192.0.2.50/32"}
		w.IPSets.Block = []string{"203.0.113.0/24", "2001:db8:b::/48", "198.51.100.13/32"}
		w.RateLimit = topology.RateLimit{Limit: 10, Window: time.Minute}
	})
	sqli := "/test?id=1%27%20OR%20%271%27%3D%271"
	tests := []struct {
		name, remote, target string
		want                 int
	}{
		{"v4 blocked", "203.0.113.9:1", "/test", http.StatusForbidden},
		{"v6 blocked", "[2001:db8:b::1]:1", "/test", http.StatusForbidden},
		{"v4-mapped v6 blocked", "[::ffff:203.0.113.9]:1", "/test", http.StatusForbidden},
		{"block wins over allow", "198.51.100.13:1", "/test", http.StatusForbidden},
		{"v4 allowed skips rules", "198.51.100.7:1", sqli, http.StatusOK},
		{"v6 allowed skips rules", "[2001:db8:a::5]:1", sqli, http.StatusOK},
		{"bare host allowed", "192.0.2.50:1", sqli, http.StatusOK},
		{"other v4 inspected", "192.0.2.51:1", sqli, http.StatusForbidden},
		{"other v6 inspected", "[2001:db8:c::1]:1", sqli, http.StatusForbidden},
		{"other clean", "[2001:db8:c::1]:1", "/test", http.StatusOK},
	}
	s := newStack(t, cfg)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := s.do(t, request{target: tt.target, remote: tt.remote}); rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
	// An allowed client skips the rate-based rule too (an allow rule ends the evaluation).
	for i := range 20 {
		if rec := s.do(t, request{target: "/test", remote: "198.51.100.8:1"}); rec.Code != http.StatusOK {
			t.Fatalf("allowed client request %d: status %d", i+1, rec.Code)
		}
	}
}

func TestClientIPSource(t *testing.T) {
	cfg := shipped(func(w *topology.WAF) { w.IPSets.Block = []string{"203.0.113.0/24"} })
	cfg.ClientIP = func(r *http.Request) (netip.Addr, bool) {
		a, err := netip.ParseAddr(r.Header.Get("X-Test-Client"))
		return a, err == nil
	}
	s := newStack(t, cfg)
	if rec := s.do(t, request{target: "/test", header: map[string]string{"X-Test-Client": "203.0.113.1"}}); rec.Code != http.StatusForbidden {
		t.Errorf("client from the trusted source: status %d, want 403", rec.Code)
	}
	if rec := s.do(t, request{target: "/test", remote: "203.0.113.1:1", header: map[string]string{"X-Test-Client": "192.0.2.1"}}); rec.Code != http.StatusOK {
		t.Errorf("RemoteAddr must be ignored when ClientIP is set: status %d", rec.Code)
	}
}

func TestParseRemoteAddr(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"192.0.2.1:1234", "192.0.2.1", true},
		{"[2001:db8::1]:80", "2001:db8::1", true},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1", true},
		{"[fe80::1%eth0]:80", "fe80::1", true},
		{"2001:db8::1", "2001:db8::1", true},
		{"192.0.2.1", "192.0.2.1", true},
		{"pipe", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		a, ok := parseRemoteAddr(tt.in)
		if ok != tt.ok || (ok && a.String() != tt.want) {
			t.Errorf("parseRemoteAddr(%q) = %v, %v; want %s, %v", tt.in, a, ok, tt.want, tt.ok)
		}
	}
}

// FuzzIPSet: any list parses or fails cleanly; a parsed set contains exactly the addresses
// one of its prefixes contains.
func FuzzIPSet(f *testing.F) {
	f.Add("10.0.0.0/8", "2001:db8::/32", "10.1.2.3")
	f.Add("192.0.2.1", "::/0", "::1")
	f.Add("0.0.0.0/0", "fe80::/10", "fe80::1")
	f.Add("::ffff:1.2.3.4/128", "1.2.3.4/33", "1.2.3.4")
	f.Fuzz(func(t *testing.T, a, b, addr string) {
		s, err := parseIPSet([]string{a, b})
		if err != nil {
			return
		}
		ip, ok := parseRemoteAddr(addr)
		if !ok {
			return
		}
		want := false
		for p := range s.nets {
			if p.Contains(ip) {
				want = true
			}
		}
		if got := s.contains(ip); got != want {
			t.Fatalf("contains(%s) = %v, want %v (set %v)", ip, got, want, s.nets)
		}
	})
}

// FuzzClientKey: the rate rule's key extraction never panics, and host:port splitting agrees
// with the address parser.
func FuzzClientKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1:1234", "[2001:db8::1]:80", "2001:db8::1", "[::1]", ":80", "a:b:c", "[]:1", "1.2.3.4:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := parseRemoteAddr(s)
		host, _ := splitHostPort(s)
		if ok {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("parseRemoteAddr(%q) = %v: not normalized", s, a)
			}
			if h, err := netip.ParseAddr(host); err == nil && normalize(h) != a {
				t.Fatalf("splitHostPort(%q) host %q disagrees with %v", s, host, a)
			}
		}
		rl := newRateLimiter(10, time.Minute, 64, time.Unix(0, 0))
		rl.allow(a, time.Unix(1, 0))
	})
}

func FuzzMatchPattern(f *testing.F) {
	f.Add("/upload/*", "/upload/a/b")
	f.Add("/t?st", "/test")
	f.Add("*a*b*c", "xaybzc")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		got := topology.MatchPattern(pattern, p)
		if want := matchSlow(pattern, p); got != want {
			t.Fatalf("MatchPattern(%q, %q) = %v, want %v", pattern, p, got, want)
		}
	})
}

// matchSlow is the obvious recursive definition of an ALB pattern match.
func matchSlow(pattern, p string) bool {
	if len(p) > 64 || len(pattern) > 16 {
		return topology.MatchPattern(pattern, p) // keep the recursion cheap; trust the fast one here
	}
	if pattern == "" {
		return p == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(p); i++ {
			if matchSlow(pattern[1:], p[i:]) {
				return true
			}
		}
		return false
	case '?':
		return p != "" && matchSlow(pattern[1:], p[1:])
	default:
		return p != "" && p[0] == pattern[0] && matchSlow(pattern[1:], p[1:])
	}
}
