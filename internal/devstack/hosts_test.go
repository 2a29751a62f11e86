package devstack

import (
	"net"
	"testing"

	"github.com/decagon/decagon/internal/ecs"
)

// A page on a rebound name (rebind.evil.example → 127.0.0.1) cannot stop a task or read the
// stack's state, even with an Origin matching its Host; the API keeps answering any Host.
func TestLocalEndpointsRefuseForeignHosts(t *testing.T) {
	s := startStack(t)
	evil := []string{"Host", "rebind.evil.example:8080", "Origin", "http://rebind.evil.example:8080"}
	for _, tc := range []struct{ method, path string }{
		{"POST", "/_dev/targets/tests-2/stop"},
		{"GET", "/_dev/targets"},
		{"GET", "/_idp/.well-known/jwks.json"},
	} {
		code, body, err := s.send(tc.method, tc.path, evil...)
		if err != nil || code != 421 {
			t.Errorf("%s %s with a foreign Host: %d %s %v, want 421", tc.method, tc.path, code, body, err)
		}
	}
	for _, x := range s.targets() {
		if x.State != ecs.TaskRunning || x.Health != "healthy" {
			t.Fatalf("%s was stopped through a foreign Host: %+v", x.ID, x)
		}
	}
	if code, _, err := s.send("GET", "/health-check", "Host", "rebind.evil.example:8080"); err != nil || code == 421 {
		t.Errorf("the API refused a foreign Host: %d %v", code, err)
	}
	for _, host := range []string{"localhost", "localhost:9", "127.0.0.1:8080", "[::1]:8080"} {
		if code, _, err := s.send("GET", "/_dev/targets", "Host", host); err != nil || code != 200 {
			t.Errorf("Host %s: %d %v, want 200", host, code, err)
		}
	}
}

func TestHostGuard(t *testing.T) {
	listen := &net.TCPAddr{IP: net.IPv4(0, 0, 0, 0), Port: 8080}
	g := newHostGuard(listen, []string{"devbox.lan", "api.example:8443"})
	cases := map[string]bool{
		"0.0.0.0:8080": true, "localhost": true, "LOCALHOST:1": true, "127.0.0.2:8080": true, "[::1]": true,
		"devbox.lan": true, "devbox.lan:8080": true, "api.example:8443": true,
		"api.example": false, "api.example:80": false, "rebind.evil.example:8080": false, "": false,
		"localhost.evil.example": false, "10.0.0.5:8080": false, "[::ffff:127.0.0.1]:8080": true,
	}
	for host, want := range cases {
		if got := g.allowed(host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:0": true, ":8080": false, "0.0.0.0:80": false, "10.1.2.3:80": false} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
