package waf

import (
	"regexp"
	"sync"
	"testing"

	"github.com/decagon/decagon/internal/topology"
)

func TestRequirement(t *testing.T) {
	tests := []struct {
		pattern string
		in      string
		want    bool // mayMatch
	}{
		{`(?i)union\s+select`, "1 UNION  SELECT x", true},
		{`(?i)union\s+select`, "select the best option from the menu", false},
		{`(?i)union\s+select`, "onion and selection", false},
		{`(?i)select`, "ſelect", true},           // U+017F folds to s: non-ASCII input is not pre-checked
		{`(?i)k`, "\u212a", true},                // KELVIN SIGN folds to k
		{`(?i)\x{212a}bc`, "kbc", true},          // a non-ASCII literal with (?i): no requirement
		{`abc|def`, "xxdefxx", true},             // one branch is enough
		{`abc|def`, "xxdexx", false},             // none
		{`abc|d?ef`, "xxefxx", true},             // d is optional
		{`(?:abc)?def`, "def", true},             // abc is optional
		{`(?:abc)*`, "", true},                   // matches anything
		{`a[bc]d`, "xyd", false},                 // a and d still required
		{`(?:ab){2,}`, "ab", true},               // only "ab" is required, once
		{`^/etc/passwd$`, "/x/etc/passwd", true}, // anchors are not reasoned about
		{`(?i)<script`, "<ScRiPt>", true},
		{`<script`, "<SCRIPT", false}, // case-sensitive
		{`(?i)union\s+select`, "1 union select x", true},
		{`(?i)union\s+select`, "1 union sElect x", true},
		{`(?i)union\s+select`, "1 union selec x", false},
		{`x[;|&]y`, "x&y", true},
		{`x[;|&]y`, "x y é", false}, // non-ASCII bytes are in no ASCII class
		{`(?i)x[;|]y`, "X|Y", true},
	}
	for _, tt := range tests {
		q := requirementOf("(?sm)" + tt.pattern)
		re := regexp.MustCompile("(?sm)" + tt.pattern)
		got := q == nil || q.mayMatch(tt.in)
		if q != nil && q.check(tt.in) != got {
			t.Errorf("requirement of %q on %q: the one-pass scan and the needle-by-needle check disagree", tt.pattern, tt.in)
		}
		if got != tt.want {
			t.Errorf("requirement of %q on %q: mayMatch %v, want %v (%+v)", tt.pattern, tt.in, got, tt.want, q)
		}
		if !got && re.MatchString(tt.in) {
			t.Errorf("%q matches %q but the pre-check rejects it", tt.pattern, tt.in)
		}
	}
}

// crsRegexps are every @rx pattern of the CRS at paranoia level 4, compiled as the operator
// compiles them.
var crsRegexps = sync.OnceValue(func() []struct {
	re   engineRegexp
	need *requirement
} {
	var out []struct {
		re   engineRegexp
		need *requirement
	}
	rxPatterns = func(_ string, re engineRegexp, need *requirement) {
		if need != nil {
			out = append(out, struct {
				re   engineRegexp
				need *requirement
			}{re, need})
		}
	}
	defer func() { rxPatterns = nil }()
	if _, err := New(shipped(func(w *topology.WAF) { w.ParanoiaLevel = 4 }), nil); err != nil {
		panic(err)
	}
	return out
})

// FuzzPrefilter: for every CRS pattern, an input the pre-check rejects is one the regexp does
// not match.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{
		"1' UNION SELECT password FROM users--", "<script>alert(1)</script>", "../../etc/passwd",
		";cat /etc/passwd", "${jndi:ldap://x/a}", "java.lang.Runtime", "<?php system('id'); ?>",
		"SeLeCt * FrOm dual", "\r\na STORE 2 +FLAGS (\\Deleted)", "2.2250738585072011e-308",
	} {
		f.Add(s)
	}
	pats := crsRegexps()
	if len(pats) < 200 {
		f.Fatalf("only %d CRS patterns have a pre-check", len(pats))
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range pats {
			may := p.need.mayMatch(in)
			if !may && p.re.MatchString(in) {
				t.Fatalf("%s matches %q but the pre-check rejects it", p.re, in)
			}
			if p.need.first != nil && may != p.need.check(in) {
				t.Fatalf("%s on %q: the one-pass scan says %v, the needle-by-needle check %v", p.re, in, may, !may)
			}
		}
	})
}
