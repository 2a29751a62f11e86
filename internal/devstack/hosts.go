package devstack

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/web"
)

// hostGuard lets only the stack's own names reach its local endpoints (/_dev/, /metrics,
// /_idp/): they have no authentication, by design, so a web page must not reach them through a
// name it controls. DNS rebinding points such a name (rebind.evil.example) at 127.0.0.1; the
// browser then sends the page's requests, Host and Origin both naming the attacker, to the
// stack — same-origin as far as the browser knows, so the Origin check of the admin API does not
// stop them. The Host header does.
//
// Allowed: the listen address itself, localhost and any loopback IP (on any port: a rebinding
// attacker cannot make a browser send them), and the names in extra, which an operator listening
// on a non-loopback address gives with --allowed-hosts (a name alone allows it on any port,
// host:port only there).
type hostGuard struct {
	listen string
	extra  map[string]bool
}

func newHostGuard(listen net.Addr, extra []string) *hostGuard {
	g := &hostGuard{listen: listen.String(), extra: map[string]bool{}}
	for _, h := range extra {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			g.extra[h] = true
		}
	}
	return g
}

// allowed reports whether host, a Host header, names the stack.
func (g *hostGuard) allowed(host string) bool {
	host = strings.ToLower(host)
	if host == "" {
		return false
	}
	if host == g.listen || g.extra[host] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if name == "localhost" || g.extra[name] {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.Unmap().IsLoopback()
}

// wrap answers 421 Misdirected Request to a request whose Host is not allowed.
func (g *hostGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allowed(r.Host) {
			web.WriteProblem(w, r, problem.New(http.StatusMisdirectedRequest,
				fmt.Sprintf("%s answers only at the stack's own address or a loopback name; start decagon dev with --allowed-hosts to name others", localPrefix(r.URL.Path))))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localPrefix names the local endpoint a path belongs to, for the refusal's detail.
func localPrefix(path string) string {
	for _, p := range []string{"/_dev/", "/_idp/", "/metrics"} {
		if strings.HasPrefix(path, p) || path+"/" == p {
			return p
		}
	}
	return "this endpoint"
}

// Loopback reports whether addr, a listen address (host:port), accepts only loopback
// connections: then the stack's local endpoints need no --allowed-hosts.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
