package waf

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
)

// base64DecodeText is the transformation of rules 10270-10272, which look for attacks wrapped
// in base64. Coraza's base64Decode turns any base64-shaped value into bytes, and most
// base64-shaped values a client sends are not base64 text at all: hex digests, random IDs, API
// keys and plain words of 4, 8 or 12 letters decode to arbitrary bytes, in which two-byte
// patterns such as "{{" or "`x" turn up about once in two hundred values. A wrapped attack is
// text, so a value whose decoding is not text (invalid UTF-8, or control characters other than
// tab, CR and LF) transforms to the empty string, which no rule of 10270-10272 matches.
//
// Registering adds a transformation to Coraza for the whole process; nothing else is named
// base64DecodeText.
func init() {
	plugins.RegisterTransformation("base64DecodeText", base64DecodeText)
}

func base64DecodeText(in string) (string, bool, error) {
	out, err := base64.StdEncoding.DecodeString(in)
	if err != nil {
		// Rule 10270-10272's first link lets only padded, whole-quantum base64 through; anything
		// else is not a wrapped value.
		return "", true, nil
	}
	if !isText(out) {
		return "", true, nil
	}
	return string(out), true, nil
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
