package blob

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
	testNow     = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

func newTestSigner(t testing.TB, secret []byte) *URLSigner {
	t.Helper()
	s, err := NewURLSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	return s
}

func tokenQuery(t testing.TB, s *URLSigner, g Grant) url.Values {
	t.Helper()
	tok, err := s.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{TokenParam: {tok}}
}

func TestURLSignerVerify(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testSecret)
	g := Grant{Method: "PUT", Key: "uploads/a/b", Expires: testNow.Add(time.Minute), ContentType: "image/png", ContentLength: 42}
	valid := tokenQuery(t, s, g)
	tok := valid.Get(TokenParam)
	claims, mac, _ := strings.Cut(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		method string
		key    string
		q      url.Values
		want   error
	}{
		{"valid", "PUT", "uploads/a/b", valid, nil},
		{"other method", "GET", "uploads/a/b", valid, ErrURLMethod},
		{"other key", "PUT", "uploads/a/c", valid, ErrURLKey},
		{"expired", "PUT", "uploads/a/b", tokenQuery(t, s, Grant{Method: "PUT", Key: "uploads/a/b", Expires: testNow}), ErrURLExpired},
		{"tampered claims", "PUT", "uploads/a/b", url.Values{TokenParam: {flip(claims, 5) + "." + mac}}, ErrURLSignature},
		{"tampered mac", "PUT", "uploads/a/b", url.Values{TokenParam: {claims + "." + flip(mac, 3)}}, ErrURLSignature},
		{"other secret", "PUT", "uploads/a/b", tokenQuery(t, newTestSigner(t, otherSecret), g), ErrURLSignature},
		{"no token", "PUT", "uploads/a/b", url.Values{}, ErrURLMalformed},
		{"two tokens", "PUT", "uploads/a/b", url.Values{TokenParam: {tok, tok}}, ErrURLMalformed},
		{"extra parameter", "PUT", "uploads/a/b", url.Values{TokenParam: {tok}, "x": {"1"}}, ErrURLMalformed},
		{"no dot", "PUT", "uploads/a/b", url.Values{TokenParam: {claims + mac}}, ErrURLMalformed},
		{"not base64", "PUT", "uploads/a/b", url.Values{TokenParam: {"!!." + mac}}, ErrURLMalformed},
		{"short mac", "PUT", "uploads/a/b", url.Values{TokenParam: {claims + "." + mac[:20]}}, ErrURLMalformed},
		{"huge", "PUT", "uploads/a/b", url.Values{TokenParam: {strings.Repeat("A", 5000) + "." + mac}}, ErrURLMalformed},
	}
	for _, c := range cases {
		got, err := s.Verify(c.method, c.key, c.q)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
		if c.want == nil && (got != Grant{Method: "PUT", Key: "uploads/a/b", Expires: g.Expires.UTC(), ContentType: "image/png", ContentLength: 42}) {
			t.Errorf("%s: grant = %+v", c.name, got)
		}
	}
}

func TestNewURLSignerShortSecret(t *testing.T) {
	t.Parallel()
	if _, err := NewURLSigner(testSecret[:MinSecretLen-1]); err == nil {
		t.Error("NewURLSigner accepted a 31-byte secret")
	}
	s := newTestSigner(t, testSecret)
	if _, err := s.Sign(Grant{Method: "GET", Key: "a", ContentDisposition: "x\ny"}); err == nil {
		t.Error("Sign accepted a newline in a field")
	}
}

// FuzzVerify: no query string, however built, panics Verify or gets a grant; the seeds include
// genuine tokens used wrongly (other method, key, secret) and mangled ones.
func FuzzVerify(f *testing.F) {
	s := newTestSigner(f, testSecret)
	other := newTestSigner(f, otherSecret)
	g := Grant{Method: "PUT", Key: "k", Expires: testNow.Add(time.Hour), ContentType: "text/plain", ContentLength: 3}
	f.Add(tokenQuery(f, s, g).Encode())
	f.Add(tokenQuery(f, other, Grant{Method: "GET", Key: "k", Expires: testNow.Add(time.Hour)}).Encode())
	f.Add(tokenQuery(f, s, Grant{Method: "GET", Key: "k", Expires: testNow.Add(-time.Hour)}).Encode())
	f.Add("token=.")
	f.Add("token=a.b&token=c.d")
	f.Add("token=%00%ff.%zz")
	f.Add("X-Amz-Signature=abc&X-Amz-Expires=900")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if g, err := s.Verify("GET", "k", q); err == nil {
			t.Fatalf("Verify(%q) granted %+v", raw, g)
		}
	})
}

// FuzzParseClaims: what parseClaims accepts, Sign writes back as claims that parse to the same
// grant (and writes those again unchanged); what it refuses it refuses again, with the same
// reason; an accepted grant never has a negative length.
func FuzzParseClaims(f *testing.F) {
	s := newTestSigner(f, testSecret)
	f.Add("v1\nGET\nk\n1893553445\n\n0\n")
	f.Add("v1\nPUT\nuploads/a\n-1\ntext/plain\n5\nattachment")
	f.Add("v1\n\n\n\n\n\n")
	f.Add("v2\nGET\nk\n1\n\n0\n")
	f.Add("v1\nGET\nk\n+0017\n\n007\n")             // non-canonical numbers
	f.Add("v1\nGET\nk\n9223372036854775807\n\n0\n") // the last second time.Unix takes
	f.Add("v1\nGET\nk\n1\n\n-0\n")
	f.Add("v1\nGET\nk\n1\n\n-1\n")
	f.Add("v1\n\n\n0\n\n0\n\r") // a CR: parsed, but Sign would not write it
	f.Fuzz(func(t *testing.T, claims string) {
		g, err := parseClaims(claims)
		if err != nil {
			if _, again := parseClaims(claims); again == nil || again.Error() != err.Error() {
				t.Fatalf("parseClaims(%q) refused with %v, then %v", claims, err, again)
			}
			return
		}
		if g.ContentLength < 0 {
			t.Fatalf("parseClaims(%q) = %+v: negative length", claims, g)
		}
		if strings.Contains(g.Method+g.Key+g.ContentType+g.ContentDisposition, "\r") {
			// parseClaims splits on \n only, so it takes a CR that Sign refuses to write. Only
			// claims under our own MAC reach it, and Sign never wrote one, so no token carries
			// it; the grant cannot round-trip, so there is nothing more to check.
			if _, err := s.Sign(g); err == nil {
				t.Fatalf("Sign took a CR in %+v", g)
			}
			return
		}
		written := signedClaims(t, s, g)
		back, err := parseClaims(written)
		if err != nil || back != g {
			t.Fatalf("parseClaims(%q) = %+v; signed as %q it parses to %+v, %v", claims, g, written, back, err)
		}
		if again := signedClaims(t, s, back); again != written {
			t.Fatalf("the grant of %q is written as %q, then as %q", claims, written, again)
		}
	})
}

// signedClaims signs g and returns the claims part of the token, decoded.
func signedClaims(t *testing.T, s *URLSigner, g Grant) string {
	t.Helper()
	tok, err := s.Sign(g)
	if err != nil {
		t.Fatalf("Sign(%+v): %v", g, err)
	}
	claims, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(claims)
	if err != nil {
		t.Fatalf("token %q: %v", tok, err)
	}
	return string(b)
}
