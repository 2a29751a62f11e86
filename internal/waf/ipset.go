package waf

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// ipSet is a set of CIDRs, IPv4 and IPv6, looked up with one map probe per distinct prefix
// length (so a set of 10,000 CIDRs costs no more than a handful of lengths).
type ipSet struct {
	lengths []int                     // distinct prefix lengths, longest first
	nets    map[netip.Prefix]struct{} // masked prefixes
}

// parseIPSet parses CIDRs ("192.0.2.0/24", "2001:db8::/32"). A bare address is taken as a
// host prefix. Host bits must be clear, as AWS WAF and decagon.yaml want them.
func parseIPSet(cidrs []string) (*ipSet, error) {
	s := &ipSet{nets: make(map[netip.Prefix]struct{}, len(cidrs))}
	for i, c := range cidrs {
		c = strings.TrimSpace(c)
		var p netip.Prefix
		if strings.Contains(c, "/") {
			var err error
			p, err = netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %q is not a CIDR", i, c)
			}
		} else {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %q is not a CIDR", i, c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("[%d]: %q has a zone", i, c)
		}
		if p.Addr().Is4In6() {
			// ::ffff:a.b.c.d/n would never match: client addresses are unmapped first.
			return nil, fmt.Errorf("[%d]: %q is an IPv4-mapped IPv6 prefix: write it as IPv4", i, c)
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("[%d]: %q has host bits set: write %s", i, c, p.Masked())
		}
		s.nets[p] = struct{}{}
		if !slices.Contains(s.lengths, lengthKey(p)) {
			s.lengths = append(s.lengths, lengthKey(p))
		}
	}
	slices.Sort(s.lengths)
	slices.Reverse(s.lengths)
	return s, nil
}

// lengthKey folds the family into the length: IPv4 lengths are 0..32, IPv6 lengths 1000..1128.
func lengthKey(p netip.Prefix) int {
	if p.Addr().Is4() {
		return p.Bits()
	}
	return 1000 + p.Bits()
}

// contains reports whether a (unmapped, without zone) is in the set.
func (s *ipSet) contains(a netip.Addr) bool {
	if s == nil || len(s.nets) == 0 || !a.IsValid() {
		return false
	}
	is4 := a.Is4()
	for _, l := range s.lengths {
		if (l < 1000) != is4 {
			continue
		}
		bits := l
		if !is4 {
			bits -= 1000
		}
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		if _, ok := s.nets[p]; ok {
			return true
		}
	}
	return false
}

// remoteIP returns the address part of r.RemoteAddr ("192.0.2.1:1234", "[2001:db8::1]:1234",
// or a bare address), unmapped and without zone.
func remoteIP(r *http.Request) (netip.Addr, bool) {
	return parseRemoteAddr(r.RemoteAddr)
}

func parseRemoteAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return normalize(a), true
		}
	}
	return netip.Addr{}, false
}

func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}
