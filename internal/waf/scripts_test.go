package waf

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// scripts are Unicode ranges of letters of scripts other than Latin, and emoji.
var scripts = []struct {
	name   string
	lo, hi rune
}{
	{"CJK", 0x4e00, 0x9fff}, {"kana", 0x3041, 0x30fa}, {"Hangul", 0xac00, 0xd7a3},
	{"Cyrillic", 0x0410, 0x044f}, {"Greek", 0x0391, 0x03c9}, {"Arabic", 0x0621, 0x064a},
	{"Hebrew", 0x05d0, 0x05ea}, {"Devanagari", 0x0905, 0x0939}, {"Thai", 0x0e01, 0x0e2e},
	{"emoji", 0x1f600, 0x1f64f},
}

// TestNonLatinScripts: prose in other scripts passes in a JSON value, a query parameter and a
// header. Random letters are the test because CRS's t:utf8toUnicode,t:urlDecodeUni once reduced
// each character to the low byte of its code point, which for these scripts can be any byte:
// one random Cyrillic, Arabic, Devanagari or Thai sentence in sixty, and "这是一个测试", read as
// SQL to libinjection (transformations.go, utf8ToUnicode).
func TestNonLatinScripts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, sc := range scripts {
		blocked, n := 0, 0
		sentences := 150
		if raceEnabled { // make test runs it whole without -race
			sentences = 150 / crsRaceSample
		}
		for i := range sentences {
			var words []string
			for range 3 + rng.IntN(6) {
				var w strings.Builder
				for range 2 + rng.IntN(7) {
					w.WriteRune(sc.lo + rng.Int32N(sc.hi-sc.lo+1))
				}
				words = append(words, w.String())
			}
			text := strings.Join(words, " ")
			for j, rq := range []request{
				{method: "POST", target: "/test", contentType: "application/json", body: `{"name":` + jsonString(text) + `,"data":{"note":` + jsonString(text) + `}}`},
				{target: "/test?q=" + url.QueryEscape(text)},
				{target: "/test", header: map[string]string{"X-Client-Note": text}},
			} {
				n++
				rq.remote = fmt.Sprintf("198.18.%d.%d:1", i, j)
				if rec := s.do(t, rq); rec.Code != http.StatusOK {
					blocked++
					if blocked <= 3 {
						recs := s.logs.records(t)
						t.Errorf("%s %q: status %d: %v", sc.name, text, rec.Code, recs[len(recs)-1]["reason"])
					}
				}
			}
		}
		if blocked > 0 {
			t.Errorf("%s: %d of %d requests refused", sc.name, blocked, n)
		}
	}
}
