package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const (
	// DefaultTTL is a minted token's lifetime when MintOptions.TTL is zero, as Cognito's default.
	DefaultTTL = time.Hour
	// MinTTL and MaxTTL bound MintOptions.TTL.
	MinTTL = time.Minute
	MaxTTL = 24 * time.Hour
	// DefaultUserScope is the scope of a user's access token when MintOptions.Scopes is empty,
	// as Cognito grants it.
	DefaultUserScope = "aws.cognito.signin.user.admin"
)

// subNamespace makes sub a UUID v5 of the username, so one user always has one sub.
var subNamespace = uuid.MustParse("5b0c7a8e-6f2d-4f3a-9d1e-dec460000000")

// MintOptions describes a token to mint for a user.
type MintOptions struct {
	// Issuer is the iss claim; the recorded issuer (see Provider.Issuer) when empty.
	Issuer string
	// User is the username (cognito:username or username): 1-128 letters, digits or . _ @ + -.
	User string
	// Groups become cognito:groups; same characters as User.
	Groups []string
	// Type is "access" (the default when empty: what a signed-in user sends to the API) or "id".
	Type string
	// Scopes are the scopes of an access token (DefaultUserScope when empty); ID tokens have none.
	Scopes []string
	// TTL is the lifetime, MinTTL..MaxTTL; DefaultTTL when zero.
	TTL time.Duration
	// Now is the issue time; the current time when zero.
	Now time.Time
}

// idTokenClaims are the claims of a Cognito ID token.
type idTokenClaims struct {
	Sub           string   `json:"sub"`
	Groups        []string `json:"cognito:groups,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Iss           string   `json:"iss"`
	Username      string   `json:"cognito:username"`
	OriginJTI     string   `json:"origin_jti"`
	Aud           string   `json:"aud"`
	EventID       string   `json:"event_id"`
	TokenUse      string   `json:"token_use"`
	AuthTime      int64    `json:"auth_time"`
	Exp           int64    `json:"exp"`
	Iat           int64    `json:"iat"`
	JTI           string   `json:"jti"`
	Email         string   `json:"email"`
}

// accessTokenClaims are the claims of a Cognito access token; the user's fields are empty for
// the client_credentials grant.
type accessTokenClaims struct {
	Sub       string   `json:"sub"`
	Groups    []string `json:"cognito:groups,omitempty"`
	Iss       string   `json:"iss"`
	Version   int      `json:"version"`
	ClientID  string   `json:"client_id"`
	OriginJTI string   `json:"origin_jti,omitempty"`
	EventID   string   `json:"event_id,omitempty"`
	TokenUse  string   `json:"token_use"`
	Scope     string   `json:"scope"`
	AuthTime  int64    `json:"auth_time"`
	Exp       int64    `json:"exp"`
	Iat       int64    `json:"iat"`
	JTI       string   `json:"jti"`
	Username  string   `json:"username,omitempty"`
}

// Mint returns a signed token for a user, shaped like Cognito's.
func (p *Provider) Mint(opts MintOptions) (string, error) {
	if err := validName("user", opts.User); err != nil {
		return "", fmt.Errorf("idp: mint: %w", err)
	}
	for i, g := range opts.Groups {
		if err := validName("group", g); err != nil {
			return "", fmt.Errorf("idp: mint: %w", err)
		}
		if slices.Contains(opts.Groups[:i], g) {
			return "", fmt.Errorf("idp: mint: group %q listed twice", g)
		}
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return "", fmt.Errorf("idp: mint: ttl %v: want %v..%v", opts.TTL, MinTTL, MaxTTL)
	}
	issuer := opts.Issuer
	if issuer == "" {
		var err error
		if issuer, err = p.Issuer(); err != nil {
			return "", err
		}
	} else if err := validIssuer(issuer); err != nil {
		return "", fmt.Errorf("idp: mint: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = p.now()
	}
	iat := now.Unix()
	sub := uuid.NewSHA1(subNamespace, []byte(opts.User)).String()
	groups := slices.Clone(opts.Groups)

	switch opts.Type {
	case "id":
		if len(opts.Scopes) > 0 {
			return "", errors.New("idp: mint: scopes apply to access tokens only (use type access)")
		}
		email := opts.User
		if !strings.Contains(email, "@") {
			email += "@example.com"
		}
		return p.sign(idTokenClaims{
			Sub: sub, Groups: groups, EmailVerified: true, Iss: issuer, Username: opts.User,
			OriginJTI: uuid.NewString(), Aud: p.client.ID, EventID: uuid.NewString(), TokenUse: "id",
			AuthTime: iat, Exp: iat + int64(ttl/time.Second), Iat: iat, JTI: uuid.NewString(), Email: email,
		})
	case "", "access":
		scopes := opts.Scopes
		if len(scopes) == 0 {
			scopes = []string{DefaultUserScope}
		}
		for i, s := range scopes {
			if err := validScope(s); err != nil {
				return "", fmt.Errorf("idp: mint: %w", err)
			}
			if slices.Contains(scopes[:i], s) {
				return "", fmt.Errorf("idp: mint: scope %q listed twice", s)
			}
		}
		return p.sign(accessTokenClaims{
			Sub: sub, Groups: groups, Iss: issuer, Version: 2, ClientID: p.client.ID,
			OriginJTI: uuid.NewString(), EventID: uuid.NewString(), TokenUse: "access",
			Scope: strings.Join(scopes, " "), AuthTime: iat, Exp: iat + int64(ttl/time.Second), Iat: iat,
			JTI: uuid.NewString(), Username: opts.User,
		})
	default:
		return "", fmt.Errorf("idp: mint: token type %q: want id or access", opts.Type)
	}
}

// mintClientCredentials returns the access token of the client_credentials grant: sub is the
// client ID and there is no user.
func (p *Provider) mintClientCredentials(issuer string, scopes []string, ttl time.Duration) (string, error) {
	iat := p.now().Unix()
	return p.sign(accessTokenClaims{
		Sub: p.client.ID, Iss: issuer, Version: 2, ClientID: p.client.ID, TokenUse: "access",
		Scope: strings.Join(scopes, " "), AuthTime: iat, Exp: iat + int64(ttl/time.Second), Iat: iat,
		JTI: uuid.NewString(),
	})
}

// sign serializes claims and signs them with the current key. The header carries kid and alg
// only: Cognito sends no typ.
func (p *Provider) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("idp: encode claims: %w", err)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, p.keys[0].kid); err != nil {
		return "", fmt.Errorf("idp: header: %w", err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), p.keys[0].key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("idp: sign: %w", err)
	}
	return string(tok), nil
}

// validName checks a username or group name: 1-128 ASCII letters, digits or . _ @ + -.
func validName(what, s string) error {
	ok := len(s) >= 1 && len(s) <= 128
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._@+-", c) >= 0
	}
	if !ok {
		return fmt.Errorf("%s %q: want 1-128 letters, digits or . _ @ + -", what, s)
	}
	return nil
}

// validScope checks an OAuth 2.0 scope token (RFC 6749 §3.3), at most 256 characters.
func validScope(s string) error {
	ok := len(s) >= 1 && len(s) <= 256
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e
	}
	if !ok {
		return fmt.Errorf("scope %q: want 1-256 printable characters without space, quote or backslash", s)
	}
	return nil
}
