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
// client's IP. From an untrusted peer any X-Forwarded-For is dropped: the list is the peer
// alone and the peer is the client. From a trusted peer the list is walked from the right,
// skipping trusted proxies; the first entry that is not one is the client, because only the
// entries to its right were written by proxies we trust — everything to its left is the
// client's to forge, so a malformed entry there changes nothing.
//
// A malformed entry in the client's place is the client's problem, not a way out: the
// request is treated as coming from the hop that reported it (the trusted proxy to its right,
// or the peer), exactly as if the client had sent no header at all, so it can neither lift a
// block nor escape a rate limit. When every entry is a trusted proxy, the left-most is the
// client. The header sent on holds the well-formed entries up to the client, the hops after
// it and the peer: addresses only, so nothing the client wrote reaches a target unparsed.
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
	hops := forwardedHops(xff)
	i := len(hops) - 1
	for i >= 0 && hops[i].ok && tp.Contains(hops[i].addr) {
		i--
	}
	keep := hops
	switch {
	case len(hops) == 0:
		return p, p
	case i < 0: // every hop is a trusted proxy
		client = hops[0].addr.String()
	case !hops[i].ok: // the client's place holds garbage: the hop that wrote it is the client
		keep = hops[i+1:]
		client = p
		if len(keep) > 0 {
			client = keep[0].addr.String()
		}
	default:
		client = hops[i].addr.String()
	}
	var b strings.Builder
	for _, h := range keep {
		if h.ok {
			b.WriteString(h.addr.String())
			b.WriteString(", ")
		}
	}
	b.WriteString(p)
	return b.String(), client
}

// hop is one X-Forwarded-For entry: its address, or ok false when it is not one.
type hop struct {
	addr netip.Addr
	ok   bool
}

// forwardedHops parses X-Forwarded-For values into their entries, in order, keeping at most
// the right-most maxForwardedHops (the ones the edge's trusted proxies wrote are there;
// what lies further left is the client's and never read).
func forwardedHops(values []string) []hop {
	var out []hop
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, ok := parseHop(part)
			out = append(out, hop{addr: a, ok: ok})
		}
	}
	if len(out) > maxForwardedHops {
		out = out[len(out)-maxForwardedHops:]
	}
	return out
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

// maxForwardedHops bounds the X-Forwarded-For entries read, counted from the right.
const maxForwardedHops = 32

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
// trusted proxy, the right-most X-Forwarded-For entry that is not one (the proxy that reported
// it when that entry is malformed; see forwardedFor). It fits waf.Config.ClientIP, so the
// WAF's IP sets and rate-based rule key on the same address as the access log.
func (tp TrustedProxies) ClientIP(r *http.Request) (netip.Addr, bool) {
	_, client := tp.forwardedFor(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	a, err := netip.ParseAddr(client)
	return a, err == nil
}
