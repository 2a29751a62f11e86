package waf

import (
	"math/bits"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// requirement is a necessary condition for a regular expression to match, read off its
// syntax tree: one of alts must hold, and an alternative holds when every one of its needles
// occurs in the input. It is conservative by construction: every node it cannot reason about
// (character classes, optional parts, anchors...) is taken to match anything, and an AND is
// only ever weakened (a conjunct dropped), never strengthened.
type requirement struct {
	alts [][]needle
	// asciiOnly: some needle's reasoning holds for ASCII inputs only (see needle.asciiOnly);
	// other inputs are not checked.
	asciiOnly bool

	// The one-pass form of alts (see scan), when the requirement has at most 64 distinct
	// needles: needles[j] is bit j; altMasks holds each alternative's needles; first[b] and
	// second[b] the needles an occurrence of which may have byte b first and second; short the
	// needles one byte long (every byte set of anyOf is).
	needles       []needle
	altMasks      []uint64
	first, second *[256]uint64
	short         uint64
}

// needle is a literal that must occur in the input; fold means ASCII case-insensitively
// (s is then lower case and ASCII); anyOf means one of the bytes of s must occur. asciiOnly
// means the needle is only necessary when the input is ASCII: a folded letter whose case
// orbit holds a non-ASCII rune (k ~ U+212A KELVIN SIGN, s ~ U+017F LONG S), a character class
// whose non-ASCII runes were left out, a non-ASCII literal (which invalid UTF-8 or a
// byte-oriented regexp would read otherwise).
type needle struct {
	s         string
	fold      bool
	anyOf     bool
	asciiOnly bool
}

const (
	maxAlternatives = 64 // past this many, an alternation is taken to match anything
	maxProduct      = 32 // a concatenation keeps a child only if the AND stays this small
	maxClassRunes   = 12 // past this many ASCII runes, a character class is taken to match anything
)

// requirementOf returns the requirement of pattern, or nil when none can be told (or the
// pattern does not parse; the compiler reports that).
func requirementOf(pattern string) *requirement {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	alts, ok := dnf(re.Simplify())
	if !ok {
		return nil
	}
	q := &requirement{alts: alts}
	for _, alt := range alts {
		for _, n := range alt {
			q.asciiOnly = q.asciiOnly || n.asciiOnly
		}
	}
	q.compile()
	return q
}

// compile builds the one-pass form of q's alternatives, unless they have more than 64
// distinct needles (mayMatch then checks the needles one by one).
func (q *requirement) compile() {
	index := map[needle]int{}
	var masks []uint64
	for _, alt := range q.alts {
		var m uint64
		for _, n := range alt {
			j, ok := index[n]
			if !ok {
				if len(index) == 64 {
					return
				}
				j = len(index)
				index[n] = j
			}
			m |= 1 << j
		}
		masks = append(masks, m)
	}
	q.needles = make([]needle, len(index))
	first, second := new([256]uint64), new([256]uint64)
	set := func(table *[256]uint64, c byte, fold bool, bit uint64) {
		table[c] |= bit
		if fold && 'a' <= c && c <= 'z' {
			table[c-('a'-'A')] |= bit
		}
	}
	for n, j := range index {
		q.needles[j] = n
		bit := uint64(1) << j
		switch {
		case n.anyOf:
			for i := 0; i < len(n.s); i++ {
				set(first, n.s[i], false, bit)
			}
			q.short |= bit
		case len(n.s) == 1:
			set(first, n.s[0], n.fold, bit)
			q.short |= bit
		default:
			set(first, n.s[0], n.fold, bit)
			set(second, n.s[1], n.fold, bit)
		}
	}
	q.altMasks, q.first, q.second = masks, first, second
}

// dnf returns re's requirement as alternatives of needles; ok is false when re is taken to
// match anything.
func dnf(re *syntax.Regexp) (alts [][]needle, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		n := needle{s: string(re.Rune), fold: fold}
		for _, r := range re.Rune {
			switch {
			case fold && r >= utf8.RuneSelf:
				return nil, false // no reasoning about non-ASCII case folding
			case r >= utf8.RuneSelf:
				n.asciiOnly = true
			case fold:
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					if f >= utf8.RuneSelf {
						n.asciiOnly = true
					}
				}
			}
		}
		if n.s == "" {
			return nil, false
		}
		if fold {
			n.s = strings.ToLower(n.s)
		}
		return [][]needle{{n}}, true
	case syntax.OpCharClass:
		// One of the class's runes must occur. Only its ASCII runes are looked for (so the
		// needle holds for ASCII inputs only when it has others); a class with many of them
		// says too little to be worth checking.
		n := needle{anyOf: true}
		var set []byte
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1] >= utf8.RuneSelf {
				n.asciiOnly = true
			}
			for r := re.Rune[i]; r <= min(re.Rune[i+1], utf8.RuneSelf-1); r++ {
				if len(set) == maxClassRunes {
					return nil, false
				}
				set = append(set, byte(r))
			}
		}
		if len(set) == 0 {
			return nil, false // matches no ASCII input; leave such oddities to the regexp
		}
		n.s = string(set)
		return [][]needle{{n}}, true
	case syntax.OpCapture, syntax.OpPlus:
		return dnf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return dnf(re.Sub[0])
		}
		return nil, false
	case syntax.OpConcat:
		product := [][]needle{{}}
		constrained := false
		for _, sub := range re.Sub {
			sa, sok := dnf(sub)
			if !sok || len(product)*len(sa) > maxProduct {
				continue // dropping a conjunct only weakens the condition
			}
			next := make([][]needle, 0, len(product)*len(sa))
			for _, p := range product {
				for _, a := range sa {
					next = append(next, append(append([]needle(nil), p...), a...))
				}
			}
			product, constrained = next, true
		}
		return product, constrained
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			sa, sok := dnf(sub)
			if !sok {
				return nil, false // one branch matching anything: the whole does
			}
			alts = append(alts, sa...)
			if len(alts) > maxAlternatives {
				return nil, false
			}
		}
		return alts, len(alts) > 0
	default:
		return nil, false
	}
}

// mayMatch reports whether the regular expression may match s: false only when no
// alternative's needles all occur in s. When the requirement holds for ASCII inputs only, an
// input with a non-ASCII byte is not checked.
func (q *requirement) mayMatch(s string) bool {
	if q.first != nil {
		return q.scan(s)
	}
	return q.check(s)
}

// check is mayMatch needle by needle: one search of s per needle tried.
func (q *requirement) check(s string) bool {
	if q.asciiOnly {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return true
			}
		}
	}
	for _, alt := range q.alts {
		all := true
		for _, n := range alt {
			if !n.in(s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// scan is mayMatch in one pass over s: at each byte, the needles that may start there (their
// first and second bytes are these) and have not been seen yet are compared in place, and
// their bits set; then an alternative
// holds when all its bits are. A CRS pattern typically has dozens of alternatives: this reads
// the input once instead of once per needle.
func (q *requirement) scan(s string) bool {
	var found uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf && q.asciiOnly {
			return true
		}
		next := q.short // past the last byte only one-byte needles can start
		if i+1 < len(s) {
			next |= q.second[s[i+1]]
		}
		for m := q.first[c] & next &^ found; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			if q.needles[j].at(s, i) {
				found |= 1 << j
			}
		}
	}
	for _, a := range q.altMasks {
		if a&found == a {
			return true
		}
	}
	return false
}

// at reports whether n occurs in s at i (whose byte is one n may start with).
func (n needle) at(s string, i int) bool {
	switch {
	case n.anyOf:
		return true
	case len(s)-i < len(n.s):
		return false
	case n.fold:
		return equalFoldASCII(s[i:i+len(n.s)], n.s)
	default:
		return s[i:i+len(n.s)] == n.s
	}
}

// equalFoldASCII reports whether s equals lower (ASCII, lower case), ignoring ASCII case.
func equalFoldASCII(s, lower string) bool {
	for j := 0; j < len(lower); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[j] {
			return false
		}
	}
	return true
}

// in reports whether n occurs in s.
func (n needle) in(s string) bool {
	switch {
	case n.anyOf:
		return strings.ContainsAny(s, n.s)
	case n.fold:
		return containsFoldASCII(s, n.s)
	default:
		return strings.Contains(s, n.s)
	}
}

// containsFoldASCII reports whether s contains lower (ASCII, lower case), ignoring ASCII
// case.
func containsFoldASCII(s, lower string) bool {
	n := len(lower)
	if n == 0 {
		return true
	}
	first := lower[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper -= 'a' - 'A'
	}
	for i := 0; i+n <= len(s); i++ {
		if c := s[i]; c != first && c != upper {
			continue
		}
		j := 1
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
