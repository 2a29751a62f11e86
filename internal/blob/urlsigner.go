package blob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TokenParam is the query parameter that carries a file-backend URL's token.
const TokenParam = "token"

// MinSecretLen is the shortest URLSigner secret accepted, in bytes (the HMAC-SHA256 block of
// security: shorter keys are guessable offline from one URL).
const MinSecretLen = 32

// maxTokenLen bounds what Verify decodes: a real token is a few hundred bytes.
const maxTokenLen = 4096

// macContext separates these MACs from any other use of the same secret.
const macContext = "decagon-blob-url\x00"

// Grant is what a file-backend signed URL allows: one method on one key until Expires, with the
// content type, length and disposition it was signed with.
type Grant struct {
	Method             string
	Key                string
	Expires            time.Time // whole seconds
	ContentType        string
	ContentLength      int64 // PUT: the exact body size
	ContentDisposition string
}

// URLSigner signs and verifies the file backend's URLs with HMAC-SHA256.
//
// A token is base64url(claims) "." base64url(HMAC-SHA256(secret, context ‖ claims)). Verify
// checks the MAC in constant time before it looks at any claim, so a forged token learns
// nothing but ErrURLSignature; a genuine token used wrongly gets the precise reason.
type URLSigner struct {
	secret []byte
	now    func() time.Time
}

// NewURLSigner returns a signer for secret, which must be at least MinSecretLen bytes.
func NewURLSigner(secret []byte) (*URLSigner, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("blob: URL secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return &URLSigner{secret: append([]byte(nil), secret...), now: time.Now}, nil
}

// Sign returns the token for g. Its fields must not contain newlines.
func (s *URLSigner) Sign(g Grant) (string, error) {
	for _, f := range []string{g.Method, g.Key, g.ContentType, g.ContentDisposition} {
		if strings.ContainsAny(f, "\r\n") {
			return "", errors.New("blob: grant field contains a newline")
		}
	}
	claims := strings.Join([]string{
		"v1", g.Method, g.Key, strconv.FormatInt(g.Expires.Unix(), 10),
		g.ContentType, strconv.FormatInt(g.ContentLength, 10), g.ContentDisposition,
	}, "\n")
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(s.mac([]byte(claims))), nil
}

// Verify checks the token in query for a request of method on key and returns its grant. The
// errors are ErrURLMalformed, ErrURLSignature, ErrURLExpired, ErrURLMethod and ErrURLKey,
// checked in that order.
func (s *URLSigner) Verify(method, key string, query url.Values) (Grant, error) {
	// Nothing but the token: S3 signs every query parameter, so an added one (say
	// response-content-type=text/html) invalidates its URLs; ours must not be extensible either.
	tokens := query[TokenParam]
	if len(query) != 1 || len(tokens) != 1 || len(tokens[0]) > maxTokenLen {
		return Grant{}, ErrURLMalformed
	}
	claimsB64, macB64, ok := strings.Cut(tokens[0], ".")
	if !ok {
		return Grant{}, ErrURLMalformed
	}
	enc := base64.RawURLEncoding
	claims, err1 := enc.DecodeString(claimsB64)
	mac, err2 := enc.DecodeString(macB64)
	if err1 != nil || err2 != nil || len(mac) != sha256.Size {
		return Grant{}, ErrURLMalformed
	}
	if !hmac.Equal(mac, s.mac(claims)) {
		return Grant{}, ErrURLSignature
	}
	g, err := parseClaims(string(claims))
	if err != nil {
		// Only a token we signed ourselves gets here: a bug or a secret shared with other code.
		return Grant{}, fmt.Errorf("%w: %v", ErrURLMalformed, err)
	}
	switch {
	case !s.now().Before(g.Expires):
		return Grant{}, ErrURLExpired
	case method != g.Method:
		return Grant{}, ErrURLMethod
	case key != g.Key:
		return Grant{}, ErrURLKey
	}
	return g, nil
}

func (s *URLSigner) mac(claims []byte) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(macContext))
	h.Write(claims)
	return h.Sum(nil)
}

func parseClaims(claims string) (Grant, error) {
	f := strings.Split(claims, "\n")
	if len(f) != 7 || f[0] != "v1" {
		return Grant{}, errors.New("unknown claims layout")
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Grant{}, fmt.Errorf("expiry: %w", err)
	}
	n, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil || n < 0 {
		return Grant{}, fmt.Errorf("content length %q", f[5])
	}
	return Grant{Method: f[1], Key: f[2], Expires: time.Unix(exp, 0).UTC(), ContentType: f[4], ContentLength: n, ContentDisposition: f[6]}, nil
}
