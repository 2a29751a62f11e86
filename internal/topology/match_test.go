package topology

import (
	"regexp"
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/test", "/test", true},
		{"/test", "/test/", false},
		{"/test", "/Test", false}, // case-sensitive
		{"/test", "/tests", false},
		{"/test/*", "/test/", true}, // '*' may be empty
		{"/test/*", "/test/abc", true},
		{"/test/*", "/test/a/b/c", true}, // '*' crosses '/'
		{"/test/*", "/test", false},
		{"xa*", "xa*0", true}, // a literal '*' in the path is matched by the wildcard too
		{"/test*", "/tests", true},
		{"/t?st", "/test", true},
		{"/t?st", "/tst", false}, // '?' is exactly one character
		{"/t?st", "/teest", false},
		{"*", "/anything", true},
		{"/a*b*c", "/axxbyyc", true},
		{"/a*b*c", "/axxbyy", false},
		{"/a*b", "/abab", true}, // needs backtracking
		{"/img/*.png", "/img/a/b.png", true},
		{"/img/*.png", "/img/a/b.jpg", false},
		{"/**", "/", true},
		{"", "", true},
		{"/x", "", false},
	}
	for _, tt := range tests {
		if got := MatchPattern(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	doc := `
services:
  - name: tests
    pathRules: [{priority: 20, paths: ["/test", "/test/*"]}]
  - name: uploads
    pathRules: [{priority: 30, paths: ["/upload", "/upload/*"]}]
  - name: special
    pathRules: [{priority: 10, paths: ["/test/special*"]}, {priority: 40, paths: ["/other"]}]
`
	topo, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string // "" for no match
	}{
		{"/test", "tests"},
		{"/test/123", "tests"},
		{"/test/special-1", "special"}, // priority 10 is evaluated before 20
		{"/upload", "uploads"},
		{"/upload/abc/complete", "uploads"},
		{"/other", "special"},
		{"/uploads", ""},
		{"/health-check", ""},
		{"/", ""},
	}
	for _, tt := range tests {
		s, ok := topo.Match(tt.path)
		got := ""
		if ok {
			got = s.Name
		}
		if got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	// A Topology built by hand, not by Parse, matches too.
	hand := &Topology{Services: []Service{{Name: "x", PathRules: []PathRule{{Priority: 1, Paths: []string{"/x/*"}}}}}}
	if s, ok := hand.Match("/x/1"); !ok || s.Name != "x" {
		t.Errorf("hand-built Match = %v, %v", s, ok)
	}
}

func BenchmarkMatch(b *testing.B) {
	topo, err := Parse([]byte(minimal + "  - name: uploads\n    pathRules: [{priority: 20, paths: [\"/upload\", \"/upload/*\"]}]\n"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := topo.Match("/upload/0b5e6c1a-4c3e-4f8e-9b57-8a3d1c2e7f00/complete"); !ok {
			b.Fatal("no match")
		}
	}
}

// FuzzMatchPattern holds MatchPattern to an independent definition of ALB path patterns: the
// pattern translated to a regular expression ('*' any run of bytes, '?' exactly one, the rest
// literal, anchored at both ends), for patterns and paths of any length. Each byte becomes the
// rune of the same value, so that '.' matches one byte as MatchPattern's '?' does, not one
// UTF-8 character.
func FuzzMatchPattern(f *testing.F) {
	for _, tt := range [][2]string{
		{"/upload/*", "/upload/a/b"}, {"/t?st", "/test"}, {"*a*b*c", "xaybzc"}, {"/a*b", "/abab"},
		{"xa*", "xa*0"}, {"/img/*.png", "/img/a/b.png"}, {"/t?st", "/tést"}, {"(a)+[b]", "(a)+[b]"},
		{strings.Repeat("*a", 40), strings.Repeat("a", 200) + "b"},
	} {
		f.Add(tt[0], tt[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 256 || len(path) > 4096 {
			return // ALB patterns are at most 128 characters; keep the regexp small
		}
		got := MatchPattern(pattern, path)
		if want := patternRegexp(pattern).MatchString(byteRunes(path)); got != want {
			t.Fatalf("MatchPattern(%q, %q) = %v, the regexp says %v", pattern, path, got, want)
		}
		if got != MatchPattern(pattern, path) {
			t.Fatalf("MatchPattern(%q, %q) changed its answer", pattern, path)
		}
	})
}

// patternRegexp translates an ALB path pattern to an anchored regular expression over
// byteRunes strings.
func patternRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i := range len(pattern) {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(rune(c))))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

// byteRunes returns s with each byte as the rune of the same value.
func byteRunes(s string) string {
	r := make([]rune, len(s))
	for i := range len(s) {
		r[i] = rune(s[i])
	}
	return string(r)
}
