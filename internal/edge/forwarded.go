package edge

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies is a set of networks whose X-Forwarded-* headers the edge believes: a
// load balancer or CDN in front of it. The zero value trusts nobody.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies parses a comma-separated list of CIDRs or bare addresses.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want a CIDR or an address", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Contains reports whether a is in one of the networks.
func (tp TrustedProxies) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range tp {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses the host of a RemoteAddr ("1.2.3.4:5678", "[::1]:5678").
func peerAddr(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, err := netip.ParseAddr(remote)
		return a.Unmap(), err == nil
	}
	return ap.Addr().Unmap(), true
}

// forwardedFor computes, as an ALB in append mode does, the X-Forwarded-For to send and the
// client's IP: from an untrusted peer, any X-Forwarded-For it sent is dropped and the list is
// the peer alone; from a trusted peer, its list is kept (when every entry is an IP address)
// with the peer appended, and the client is the right-most entry that is not a trusted proxy.
func (tp TrustedProxies) forwardedFor(remote string, xff []string) (header, client string) {
	if len(xff) == 0 || len(tp) == 0 {
		// The common case, without allocating: the peer's host as the server wrote it.
		if host, ok := remoteHost(remote); ok {
			return host, host
		}
	}
	peer, ok := peerAddr(remote)
	if !ok {
		return "", ""
	}
	p := peer.String()
	if len(xff) == 0 || len(tp) == 0 || !tp.Contains(peer) {
		return p, p
	}
	list, ok := ParseForwardedFor(xff)
	if !ok || len(list) == 0 {
		return p, p
	}
	client = list[0].String()
	for i := len(list) - 1; i >= 0; i-- {
		if !tp.Contains(list[i]) {
			client = list[i].String()
			break
		}
	}
	var b strings.Builder
	for _, a := range list {
		b.WriteString(a.String())
		b.WriteString(", ")
	}
	b.WriteString(p)
	return b.String(), client
}

// remoteHost returns the address part of a RemoteAddr that net/http wrote, when it is already
// in canonical form ("192.0.2.1:1234" → "192.0.2.1"; IPv6 and others go the long way).
func remoteHost(remote string) (string, bool) {
	i := strings.LastIndexByte(remote, ':')
	if i <= 0 {
		return "", false
	}
	host := remote[:i]
	dots := 0
	for j := 0; j < len(host); j++ {
		switch c := host[j]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return "", false
		}
	}
	if dots != 3 {
		return "", false
	}
	// ParseAddr refuses leading zeros, so what it accepts with four parts is canonical.
	if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
		return "", false
	}
	return host, true
}

// maxForwardedHops bounds the addresses read from X-Forwarded-For.
const maxForwardedHops = 32

// ParseForwardedFor parses X-Forwarded-For header values (comma-separated IP addresses,
// IPv6 optionally in brackets, possibly with a port). It reports false when any entry is not
// an address or there are more than 32, so that a forged or garbled list is dropped whole.
func ParseForwardedFor(values []string) ([]netip.Addr, bool) {
	var out []netip.Addr
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if len(out) == maxForwardedHops {
				return nil, false
			}
			a, ok := parseHop(part)
			if !ok {
				return nil, false
			}
			out = append(out, a)
		}
	}
	return out, true
}

// parseHop parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or "[::1]:80".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// ClientIP returns the client's address as the edge sees it: the peer, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For entry that is not one. It fits
// waf.Config.ClientIP.
func (tp TrustedProxies) ClientIP(r *http.Request) (netip.Addr, bool) {
	_, client := tp.forwardedFor(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	a, err := netip.ParseAddr(client)
	return a, err == nil
}
