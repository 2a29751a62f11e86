package waf

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
)

// Transformations for api-rules.conf, registered with Coraza for the whole process (the WAF is
// its only user): base64DecodeText and unwrapBase64 are new, utf8toUnicode replaces Coraza's.
func init() {
	plugins.RegisterTransformation("base64DecodeText", base64DecodeText)
	plugins.RegisterTransformation("unwrapBase64", unwrapBase64)
	plugins.RegisterTransformation("utf8toUnicode", utf8ToUnicode)
}

// base64DecodeText is the transformation of rules 10270-10272, which look for attacks wrapped
// in base64. Coraza's base64Decode turns any base64-shaped value into bytes, and most
// base64-shaped values a client sends are not base64 text at all: hex digests, random IDs, API
// keys and plain words of 4, 8 or 12 letters decode to arbitrary bytes, in which two-byte
// patterns such as "{{" or "`x" turn up about once in two hundred values. A wrapped attack is
// text, so a value whose decoding is not text (invalid UTF-8, or control characters other than
// tab, CR and LF) transforms to the empty string, which no rule of 10270-10272 matches.
func base64DecodeText(in string) (string, bool, error) {
	if out, wrapped, _ := unwrapBase64(in); wrapped {
		return out, true, nil
	}
	return "", true, nil
}

// unwrapBase64 lets a rule read a base64-wrapped value as the text it wraps and any other
// value as it is, in one rule: a value that is whole-quantum standard base64 and decodes to text
// becomes that text; anything else is kept. Rules 10260 and 10262 (commands and code, which an
// attacker wraps in base64 for a service that decodes its parameters) start with it.
func unwrapBase64(in string) (string, bool, error) {
	if !isBase64(in) {
		return in, false, nil
	}
	out, err := base64.StdEncoding.DecodeString(in)
	if err != nil || !isText(out) {
		return in, false, nil
	}
	return string(out), true, nil
}

// isBase64 reports whether s has the shape of standard base64 in whole quanta, as the first
// link of rules 10270-10272 matches it.
func isBase64(s string) bool {
	if len(s) < 4 || len(s)%4 != 0 {
		return false
	}
	body := strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// isText reports whether b is UTF-8 text: valid encoding, and no control characters except
// tab, line feed and carriage return.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// utf8ToUnicode replaces Coraza's utf8toUnicode. CRS writes t:utf8toUnicode,t:urlDecodeUni to fold characters that stand for ASCII to
// ASCII (full-width "＜script＞", typographic quotes, accented Latin): the first transformation
// writes every non-ASCII character as %uXXXX, the second decodes %uXXXX by ModSecurity's best-fit
// table and, for a character the table lacks, by the low byte of its code point. For every
// script past Latin that low byte is noise: 是 (U+662F) becomes '/', 个 (U+4E2A) '*', Ч (U+0427)
// a quote, so "这是一个测试" ("this is a test") reached libinjection (942100) as a SQL comment and
// was refused, as was one random sentence in sixty of Cyrillic, Arabic, Devanagari or Thai
// letters (TestNonLatinScripts).
//
// This version writes %uXXXX only for the blocks where the best-fit table has entries
// (U+0080-U+036F, U+2000-U+21FF, U+FF00-U+FFEF), so every folding the rules rely on stays as it
// was; any other character stays the UTF-8 it arrived as, which is what the service reads. A
// %uXXXX the client writes itself is still decoded by urlDecodeUni exactly as before.
func utf8ToUnicode(in string) (string, bool, error) {
	i := strings.IndexFunc(in, bestFitBlock)
	if i < 0 {
		return in, false, nil // nothing to write as %uXXXX: no copy
	}
	out := make([]byte, i, len(in)+len(in)/2)
	copy(out, in[:i])
	for i < len(in) {
		r, size := utf8.DecodeRuneInString(in[i:])
		if !bestFitBlock(r) {
			// ASCII, a character of another block, or a byte that is not UTF-8 (RuneError,
			// U+FFFD, is outside the blocks): as it came.
			out = append(out, in[i:i+size]...)
			i += size
			continue
		}
		out = append(out, '%', 'u')
		hex := strconv.FormatUint(uint64(r), 16)
		for range 4 - len(hex) {
			out = append(out, '0')
		}
		out = append(out, hex...)
		i += size
	}
	return string(out), true, nil
}

// bestFitBlock reports whether r is in a Unicode block where urlDecodeUni's best-fit table folds
// characters to ASCII.
func bestFitBlock(r rune) bool {
	return r >= 0x80 && r <= 0x36f || r >= 0x2000 && r <= 0x21ff || r >= 0xff00 && r <= 0xffef
}
