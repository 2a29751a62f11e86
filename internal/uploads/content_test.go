package uploads

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestChooseContentType(t *testing.T) {
	cases := []struct{ declared, sniffed, want string }{
		{"application/pdf", "application/pdf", "application/pdf"},
		{"application/pdf", "image/png", "image/png"}, // the declared type lies
		{"image/png", "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"application/json", "text/plain; charset=utf-8", "application/json"},
		{"text/csv; charset=utf-8", "text/plain; charset=utf-8", "text/csv; charset=utf-8"},
		{"application/x-custom", "application/octet-stream", "application/x-custom"},
		{"", "image/gif", "image/gif"},
		{"not a type", "image/gif", "image/gif"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"application/pdf", "application/zip", "application/zip"},
		{"image/svg+xml", "text/xml; charset=utf-8", "image/svg+xml"},
		{"text/html", "text/html; charset=utf-8", "text/html"},
	}
	for _, tc := range cases {
		if got := ChooseContentType(tc.declared, tc.sniffed); got != tc.want {
			t.Errorf("ChooseContentType(%q, %q) = %q, want %q", tc.declared, tc.sniffed, got, tc.want)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	cases := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\doc.txt`, "doc.txt"},
		{"a\x00b\r\nc.txt", "abc.txt"},
		{"\u202Egnp.exe", "gnp.exe"},
		{"  spaced  ", "spaced"},
		{"", "upload"},
		{"..", "upload"},
		{"dir/", "upload"},
		{"naïve résumé.pdf", "naïve résumé.pdf"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},
	}
	for _, tc := range cases {
		if got := SanitizeFilename(tc.in); got != tc.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	if got := ContentDisposition(`a "quoted" name.pdf`); got != `attachment; filename="a \"quoted\" name.pdf"` {
		t.Errorf("got %s", got)
	}
	if got := ContentDisposition("résumé.pdf"); !strings.Contains(got, "filename*=utf-8''r%C3%A9sum%C3%A9.pdf") {
		t.Errorf("got %s", got)
	}
}

// FuzzSanitizeFilename: whatever a client sends, the stored name is one safe path element.
func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "\xff\xfe", "a/b\\c", "\u202e", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeFilename(in)
		if out == "" || len(out) > MaxFilenameBytes || !utf8.ValidString(out) || strings.ContainsAny(out, `/\`) || out == "." || out == ".." {
			t.Fatalf("SanitizeFilename(%q) = %q", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("SanitizeFilename(%q) = %q keeps %U", in, out, r)
			}
		}
		if cd := ContentDisposition(out); !strings.HasPrefix(cd, "attachment") || strings.ContainsAny(cd, "\r\n") {
			t.Fatalf("ContentDisposition(%q) = %q", out, cd)
		}
	})
}
