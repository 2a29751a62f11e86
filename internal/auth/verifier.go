package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat when Config.Leeway is zero.
	DefaultLeeway = 5 * time.Second
	// MaxLeeway is the largest Config.Leeway accepted: more would stretch a token's lifetime.
	MaxLeeway = 30 * time.Second
	// DefaultRefreshInterval is the minimum gap between two JWKS fetches when
	// Config.RefreshInterval is zero.
	DefaultRefreshInterval = 10 * time.Second
	// MaxTokenBytes is the largest token looked at; Cognito's are under 2 KiB.
	MaxTokenBytes = 8 << 10
)

// allowedAlgs are the asymmetric JWS algorithms a token may use. HMAC and none are absent on
// purpose: with a public key as the "secret" they would let anyone forge tokens.
var allowedAlgs = map[string]jwa.SignatureAlgorithm{
	"RS256": jwa.RS256(), "RS384": jwa.RS384(), "RS512": jwa.RS512(),
	"PS256": jwa.PS256(), "PS384": jwa.PS384(), "PS512": jwa.PS512(),
	"ES256": jwa.ES256(), "ES384": jwa.ES384(), "ES512": jwa.ES512(),
}

// Config configures a Verifier. Issuer and ClientIDs are required; the zero value of every other
// field works.
type Config struct {
	// Issuer is the exact iss claim expected, such as
	// https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf or http://127.0.0.1:8080/_idp.
	// Keys are fetched from Issuer + "/.well-known/jwks.json" and nowhere else.
	Issuer string
	// ClientIDs are the app client IDs accepted in aud (ID tokens) or client_id (access tokens).
	ClientIDs []string
	// Leeway is the clock skew allowed on exp, nbf and iat: DefaultLeeway when zero, at most
	// MaxLeeway.
	Leeway time.Duration
	// RefreshInterval is the minimum gap between two JWKS fetches triggered by unknown kids:
	// DefaultRefreshInterval when zero.
	RefreshInterval time.Duration
	// HTTPClient fetches the JWKS; a client with a 10 s timeout when nil. Each fetch also has a
	// 5 s deadline of its own.
	HTTPClient *http.Client
	// Logger receives one line per failed JWKS fetch; slog.Default() when nil.
	Logger *slog.Logger
}

// Requirement is what a route asks of a token, with API Gateway's rule: no Scopes means an ID
// token is required; Scopes mean an access token carrying at least one of them is required.
type Requirement struct {
	Scopes []string
}

// Verifier checks Cognito user pool tokens against one issuer. It is safe for concurrent use;
// create it once with NewVerifier and share it.
type Verifier struct {
	issuer    string
	clientIDs []string
	leeway    time.Duration
	refresh   time.Duration
	jwksURL   string
	client    *http.Client
	logger    *slog.Logger
	now       func() time.Time // replaced by tests

	keys atomic.Pointer[keySet] // nil until the first successful fetch

	mu          sync.Mutex // guards the fields below
	inflight    *fetchCall
	lastAttempt time.Time
	lastErr     error
}

// NewVerifier checks cfg and returns a Verifier. It does no I/O: keys are fetched on first use
// (or by Refresh).
func NewVerifier(cfg Config) (*Verifier, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("auth: issuer %q: want an absolute http(s) URL without query or fragment", cfg.Issuer)
	}
	if len(cfg.ClientIDs) == 0 {
		return nil, errors.New("auth: at least one client ID is required")
	}
	for _, id := range cfg.ClientIDs {
		if strings.TrimSpace(id) == "" || id != strings.TrimSpace(id) {
			return nil, fmt.Errorf("auth: client ID %q: empty or padded with spaces", id)
		}
	}
	switch {
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return nil, fmt.Errorf("auth: leeway %v: want 0..%v", cfg.Leeway, MaxLeeway)
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	}
	switch {
	case cfg.RefreshInterval < 0:
		return nil, fmt.Errorf("auth: refresh interval %v: must not be negative", cfg.RefreshInterval)
	case cfg.RefreshInterval == 0:
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Verifier{
		issuer:    cfg.Issuer,
		clientIDs: append([]string(nil), cfg.ClientIDs...),
		leeway:    cfg.Leeway,
		refresh:   cfg.RefreshInterval,
		jwksURL:   strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json",
		client:    cfg.HTTPClient,
		logger:    cfg.Logger,
		now:       time.Now,
	}, nil
}

// Issuer returns the issuer the Verifier accepts.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify checks token and returns its claims. Errors wrap ErrInvalidToken (401),
// ErrInsufficientScope (403) or ErrKeysUnavailable (503) with the reason the check failed.
// The token is the bare JWT, without "Bearer ".
func (v *Verifier) Verify(ctx context.Context, token string, req Requirement) (*Claims, error) {
	alg, kid, err := inspect(token)
	if err != nil {
		return nil, err
	}
	key, err := v.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if key.alg != "" && key.alg != alg.String() {
		return nil, invalid("alg %s does not match the key's alg %s", alg, key.alg)
	}
	if !algFitsKey(alg.String(), key.key) {
		return nil, invalid("alg %s does not fit the key type of kid %s", alg, clip(kid))
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithKey(alg, key.key), jwt.WithValidate(false))
	if err != nil {
		return nil, invalid("signature or payload rejected: %v", err)
	}
	if err := checkNumericDates(token[strings.IndexByte(token, '.')+1 : strings.LastIndexByte(token, '.')]); err != nil {
		return nil, err
	}
	return v.check(tok, req)
}

// inspect checks the token's shape and protected header before any key is looked up: size,
// compact JWS with three base64url parts (no JWE, no JSON serialization), an allowed alg, a kid.
func inspect(token string) (jwa.SignatureAlgorithm, string, error) {
	var none jwa.SignatureAlgorithm
	if token == "" {
		return none, "", ErrMissingToken
	}
	if len(token) > MaxTokenBytes {
		return none, "", invalid("token of %d bytes exceeds %d", len(token), MaxTokenBytes)
	}
	dots := 0
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '.':
			dots++
			if i == 0 || i == len(token)-1 || token[i-1] == '.' {
				return none, "", invalid("malformed token: empty part")
			}
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return none, "", invalid("malformed token: not base64url compact serialization")
		}
	}
	if dots != 2 {
		return none, "", invalid("malformed token: %d parts, want 3 (compact JWS)", dots+1)
	}
	for part := range strings.SplitSeq(token, ".") {
		if !canonicalBase64(part) {
			return none, "", invalid("malformed token: non-canonical base64url")
		}
	}
	header := jwsbb.HeaderParseCompact([]byte(token[:strings.IndexByte(token, '.')]))
	name, err := jwsbb.HeaderGetString(header, "alg")
	if err != nil {
		return none, "", invalid("malformed header: alg: %v", err)
	}
	alg, ok := allowedAlgs[name]
	if !ok {
		return none, "", invalid("alg %s not allowed", clip(name))
	}
	kid, err := jwsbb.HeaderGetString(header, "kid")
	if err != nil || kid == "" {
		return none, "", invalid("header without kid")
	}
	return alg, kid, nil
}

// canonicalBase64 says whether s, unpadded base64url, has a valid length and zero unused bits in
// its last character. Lenient decoders accept several spellings of one signature; refusing all
// but one keeps tokens non-malleable.
func canonicalBase64(s string) bool {
	var unusedBits uint
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		unusedBits = 4
	case 3:
		unusedBits = 2
	default:
		return true
	}
	return base64URLValue(s[len(s)-1])&(1<<unusedBits-1) == 0
}

// base64URLValue is the 6-bit value of a base64url character already known to be valid.
func base64URLValue(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	default:
		return 63
	}
}
