package utf8json

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{`{"name":"iu","data":{"k":"ab"}}`, nil},
		{`{"name":"é\u00e9"}`, nil},
		{`{"name":"\ud83d\ude00"}`, nil},                // a surrogate pair: 😀
		{`{"name":"\\ud800"}`, nil},                     // an escaped backslash, then text
		{`{"name":"\"\ud83d\ude00"}`, nil},              // an escaped quote, then a pair
		{`{"a":"\u12"}`, nil},                           // malformed: left to the decoder
		{"{\"name\":\"a\xff\xfeb\"}", ErrInvalidUTF8},   // issue 11 item 2
		{"{\"data\":{\"\xff\":1}}", ErrInvalidUTF8},     // in a key
		{"{\"name\":\"\xed\xa0\x80\"}", ErrInvalidUTF8}, // a surrogate encoded as UTF-8
		{`{"name":"\ud800"}`, ErrLoneSurrogate},
		{`{"name":"\uDC00x"}`, ErrLoneSurrogate},
		{`{"name":"\ud800\u0041"}`, ErrLoneSurrogate},
		{`{"name":"\ud800x"}`, ErrLoneSurrogate},
		{`{"data":{"\udfff":1}}`, ErrLoneSurrogate},
	}
	for _, c := range cases {
		if got := Check([]byte(c.in)); got != c.want {
			t.Errorf("Check(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzCheck: whatever Check accepts, encoding/json decodes without inventing U+FFFD.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, "{\"a\":\"\xff\"}", `"\\u"`, `{"k":["x","\u00e9"]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Check([]byte(s)) != nil {
			return
		}
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		if strings.ContainsRune(s, utf8.RuneError) || strings.Contains(strings.ToLower(s), `\ufffd`) {
			return // the text held U+FFFD itself
		}
		out, _ := json.Marshal(v)
		if strings.Contains(string(out), "\ufffd") || strings.Contains(string(out), `\ufffd`) {
			t.Fatalf("Check accepted %q, which decodes with a replacement character: %s", s, out)
		}
	})
}
