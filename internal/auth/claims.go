package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Claims are the facts a verified token states about its caller.
type Claims struct {
	// Subject is the sub claim: the user's stable ID, or the app client ID for tokens from the
	// client_credentials grant.
	Subject string
	// Username is cognito:username (ID tokens) or username (access tokens); empty for
	// client_credentials tokens.
	Username string
	// Email is the email claim of ID tokens.
	Email string
	// Groups is cognito:groups.
	Groups []string
	// Scopes is the space-separated scope claim of access tokens, split.
	Scopes []string
	// TokenUse is "id" or "access".
	TokenUse string
	// ClientID is the app client the token was issued to: aud for ID tokens, client_id for
	// access tokens.
	ClientID string
	// ExpiresAt is exp.
	ExpiresAt time.Time
	// IssuedAt is iat, zero when the token has none.
	IssuedAt time.Time
}

// InGroup says whether the caller is a member of the group name (cognito:groups).
func (c *Claims) InGroup(name string) bool {
	return c != nil && slices.Contains(c.Groups, name)
}

// HasScope says whether the token carries scope.
func (c *Claims) HasScope(scope string) bool {
	return c != nil && slices.Contains(c.Scopes, scope)
}

// check applies the claim rules to a token whose signature is verified. Every 401-class check
// runs before the 403-class scope check, so a bad token is never reported as merely lacking
// scope.
func (v *Verifier) check(tok jwt.Token, req Requirement) (*Claims, error) {
	now := v.now()
	if iss, _ := tok.Issuer(); iss != v.issuer {
		return nil, invalid("wrong issuer %s", clip(iss))
	}
	exp, ok := tok.Expiration()
	if !ok {
		return nil, invalid("no exp claim")
	}
	if now.After(exp.Add(v.leeway)) {
		return nil, invalid("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok := tok.NotBefore(); ok && now.Add(v.leeway).Before(nbf) {
		return nil, invalid("token not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	iat, ok := tok.IssuedAt()
	if ok && now.Add(v.leeway).Before(iat) {
		return nil, invalid("token issued in the future (%s)", iat.UTC().Format(time.RFC3339))
	}
	c := &Claims{ExpiresAt: exp, IssuedAt: iat}
	if c.Subject, _ = tok.Subject(); c.Subject == "" {
		return nil, invalid("no sub claim")
	}
	var err error
	if c.TokenUse, err = stringClaim(tok, "token_use"); err != nil {
		return nil, err
	}
	if c.Groups, err = groupsClaim(tok); err != nil {
		return nil, err
	}

	if len(req.Scopes) == 0 {
		if c.TokenUse != "id" {
			return nil, invalid("token_use %s where an id token is required", clip(c.TokenUse))
		}
		aud, _ := tok.Audience()
		if len(aud) != 1 || !slices.Contains(v.clientIDs, aud[0]) {
			return nil, invalid("audience %s is not an allowed client", clip(strings.Join(aud, " ")))
		}
		c.ClientID = aud[0]
		if c.Username, err = stringClaim(tok, "cognito:username"); err != nil {
			return nil, err
		}
		if c.Email, err = stringClaim(tok, "email"); err != nil {
			return nil, err
		}
		return c, nil
	}

	if c.TokenUse != "access" {
		return nil, invalid("token_use %s where an access token is required", clip(c.TokenUse))
	}
	if c.ClientID, err = stringClaim(tok, "client_id"); err != nil {
		return nil, err
	}
	if !slices.Contains(v.clientIDs, c.ClientID) {
		return nil, invalid("client_id %s is not an allowed client", clip(c.ClientID))
	}
	if c.Username, err = stringClaim(tok, "username"); err != nil {
		return nil, err
	}
	scope, err := stringClaim(tok, "scope")
	if err != nil {
		return nil, err
	}
	c.Scopes = strings.Fields(scope)
	if !slices.ContainsFunc(req.Scopes, c.HasScope) {
		return nil, fmt.Errorf("%w: token scopes %s include none of %s", ErrInsufficientScope,
			clip(scope), clip(strings.Join(req.Scopes, " ")))
	}
	return c, nil
}

// stringClaim returns a private string claim, "" when absent, an error when of another type.
func stringClaim(tok jwt.Token, name string) (string, error) {
	if !tok.Has(name) {
		return "", nil
	}
	var s string
	if err := tok.Get(name, &s); err != nil {
		return "", invalid("claim %s is not a string", name)
	}
	return s, nil
}

// groupsClaim returns cognito:groups, which must be an array of strings when present.
func groupsClaim(tok jwt.Token) ([]string, error) {
	const name = "cognito:groups"
	if !tok.Has(name) {
		return nil, nil
	}
	var raw any
	if err := tok.Get(name, &raw); err != nil {
		return nil, invalid("claim %s unreadable", name)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, invalid("claim %s is not an array", name)
	}
	groups := make([]string, 0, len(list))
	for _, g := range list {
		s, ok := g.(string)
		if !ok {
			return nil, invalid("claim %s holds a non-string", name)
		}
		groups = append(groups, s)
	}
	return groups, nil
}

// numericDateClaims are the registered and OpenID claims whose value is a NumericDate.
var numericDateClaims = []string{"exp", "nbf", "iat", "auth_time"}

// checkNumericDates refuses a payload whose date claims are not JSON numbers. RFC 7519 §2 makes
// a NumericDate a number; jwx also reads strings ("1795944575", even RFC 3339 text) as dates, so
// a token another verifier would refuse would pass here. The payload is the token's second
// part, already known to be canonical base64url, and verified by the signature.
func checkNumericDates(payload string) error {
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return invalid("malformed payload: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return invalid("malformed payload: not a JSON object")
	}
	for _, name := range numericDateClaims {
		v, ok := raw[name]
		if !ok {
			continue
		}
		// RawMessage holds the value as written, without surrounding space: a JSON number
		// starts with a digit or '-'; a string, true, false or null does not.
		if len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
			return invalid("claim %s is not a NumericDate (a JSON number)", name)
		}
	}
	return nil
}
