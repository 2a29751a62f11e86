// Package utf8json checks that JSON text is UTF-8 as RFC 8259 requires, before anything decodes
// it. Go's encoding/json silently replaces invalid bytes, and escaped lone surrogates such as
// "\ud800", with U+FFFD; PostgreSQL refuses both and SQLite would store them. Checking the raw
// bytes first lets the service refuse such a body instead of altering it.
//
// It may import the standard library only (not net/http).
package utf8json

import (
	"errors"
	"unicode/utf8"
)

// Errors Check returns.
var (
	ErrInvalidUTF8   = errors.New("JSON text is not valid UTF-8")
	ErrLoneSurrogate = errors.New("JSON text escapes a lone UTF-16 surrogate")
)

// Check returns nil when b is valid UTF-8 and every \u escape inside its strings is a
// character or a well-formed surrogate pair. It does not check the rest of JSON's syntax.
func Check(b []byte) error {
	if !utf8.Valid(b) {
		return ErrInvalidUTF8
	}
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(b) {
				return nil // truncated: the decoder reports it
			}
			if b[i+1] != 'u' {
				i++ // skip the escaped character, which may be '"' or '\\'
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				return nil // malformed escape: the decoder reports it
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return ErrLoneSurrogate
			case r >= 0xD800 && r <= 0xDBFF:
				// A high surrogate must be followed at once by an escaped low one.
				if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
					return ErrLoneSurrogate
				}
				lo, ok := hex4(b, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return ErrLoneSurrogate
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 reads the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
