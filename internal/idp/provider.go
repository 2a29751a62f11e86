package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// PathPrefix is where Handler serves; the issuer of a stack at baseURL is baseURL + PathPrefix.
const PathPrefix = "/_idp"

// DefaultScopes are the scopes the token endpoint grants when Config.Scopes is empty.
var DefaultScopes = []string{"decagon/read", "decagon/write"}

// rsaBits is the size of the signing keys, as Cognito's.
const rsaBits = 2048

// Config configures a Provider; its zero value works.
type Config struct {
	// Scopes are the scopes the client_credentials grant may ask for (all of them when the
	// request names none): DefaultScopes when empty.
	Scopes []string
	// Logger receives a line for each token endpoint failure on our side; slog.Default() when nil.
	Logger *slog.Logger
}

// signingKey is one of the provider's RSA keys.
type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// client is the content of client.json.
type client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// Provider is a Cognito-shaped token issuer backed by keys in a data directory. It is safe for
// concurrent use.
type Provider struct {
	dir    string
	scopes []string
	logger *slog.Logger
	keys   [2]signingKey // keys[0] signs; keys[1] is the published "next" key
	jwks   []byte        // the public JWKS document
	client client
	issuer atomic.Pointer[string] // set by SetIssuer in this process
	now    func() time.Time       // replaced by tests
}

// Open loads the provider's keys and client from {dataDir}/idp, creating them on first use.
func Open(dataDir string, cfg Config) (*Provider, error) {
	if dataDir == "" {
		return nil, errors.New("idp: data directory required")
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	for _, s := range scopes {
		if err := validScope(s); err != nil {
			return nil, fmt.Errorf("idp: configured %w", err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir := filepath.Join(dataDir, "idp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	p := &Provider{dir: dir, scopes: append([]string(nil), scopes...), logger: cfg.Logger, now: time.Now}

	keysJSON, err := loadOrCreate(dir, keysFile, newKeySet)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if p.keys, err = parsePrivateKeys(keysJSON); err != nil {
		return nil, fmt.Errorf("idp: %s: %w (delete it to start over with new keys)", filepath.Join(dir, keysFile), err)
	}
	if p.jwks, err = publicJWKS(p.keys); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}

	clientJSON, err := loadOrCreate(dir, clientFile, newClient)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if err := json.Unmarshal(clientJSON, &p.client); err != nil || !validClientID(p.client.ID) || len(p.client.Secret) < 32 {
		return nil, fmt.Errorf("idp: %s is corrupt (delete it to start over with a new client)", filepath.Join(dir, clientFile))
	}
	return p, nil
}

// ClientID returns the app client ID: the aud of ID tokens and client_id of access tokens.
func (p *Provider) ClientID() string { return p.client.ID }

// ClientSecret returns the app client's secret for the client_credentials grant.
func (p *Provider) ClientSecret() string { return p.client.Secret }

// SetIssuer records issuer (normally {baseURL}/_idp) as the one this provider's tokens carry, in
// this process and in the data directory for other processes such as `decagon token`.
func (p *Provider) SetIssuer(issuer string) error {
	if err := validIssuer(issuer); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	if err := replaceFile(p.dir, issuerFile, []byte(issuer+"\n")); err != nil {
		return fmt.Errorf("idp: record issuer: %w", err)
	}
	p.issuer.Store(&issuer)
	return nil
}

// Issuer returns the issuer recorded by SetIssuer, in this process or, failing that, by the
// running `decagon dev` in the data directory.
func (p *Provider) Issuer() (string, error) {
	if s := p.issuer.Load(); s != nil {
		return *s, nil
	}
	data, err := os.ReadFile(filepath.Join(p.dir, issuerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("idp: no running stack recorded its issuer in %s; start `decagon dev` first or pass --issuer", filepath.Dir(p.dir))
	}
	if err != nil {
		return "", fmt.Errorf("idp: read issuer: %w", err)
	}
	issuer := strings.TrimSpace(string(data))
	if err := validIssuer(issuer); err != nil {
		return "", fmt.Errorf("idp: %s: %w", filepath.Join(p.dir, issuerFile), err)
	}
	return issuer, nil
}

// validIssuer accepts absolute http(s) URLs without query, fragment or trailing slash.
func validIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(issuer, "/") {
		return fmt.Errorf("issuer %q: want an absolute http(s) URL without query, fragment or trailing slash", issuer)
	}
	return nil
}

// newKeySet generates the JWK set of two private signing keys for keys.json.
func newKeySet() ([]byte, error) {
	set := jwk.NewSet()
	for range 2 {
		priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		k, err := jwk.Import(priv)
		if err != nil {
			return nil, fmt.Errorf("import RSA key: %w", err)
		}
		if err := jwk.AssignKeyID(k); err != nil { // the RFC 7638 thumbprint
			return nil, fmt.Errorf("assign kid: %w", err)
		}
		if err := k.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
			return nil, fmt.Errorf("set alg: %w", err)
		}
		if err := k.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
			return nil, fmt.Errorf("set use: %w", err)
		}
		if err := set.AddKey(k); err != nil {
			return nil, fmt.Errorf("add key: %w", err)
		}
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode keys: %w", err)
	}
	return data, nil
}

// parsePrivateKeys reads keys.json: exactly two distinct RSA private keys of at least 2048 bits.
func parsePrivateKeys(data []byte) ([2]signingKey, error) {
	var keys [2]signingKey
	set, err := jwk.Parse(data)
	if err != nil {
		return keys, fmt.Errorf("parse: %w", err)
	}
	if set.Len() != 2 {
		return keys, fmt.Errorf("%d keys, want 2", set.Len())
	}
	for i := range keys {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		var priv rsa.PrivateKey
		if err := jwk.Export(k, &priv); err != nil {
			return keys, fmt.Errorf("key %d: want an RSA private key: %w", i, err)
		}
		if kid == "" || priv.N.BitLen() < rsaBits {
			return keys, fmt.Errorf("key %d: want a kid and %d bits", i, rsaBits)
		}
		priv.Precompute()
		keys[i] = signingKey{kid: kid, key: &priv}
	}
	if keys[0].kid == keys[1].kid {
		return keys, errors.New("both keys have one kid")
	}
	return keys, nil
}

// publicJWKS renders the public halves of keys as the JWKS document.
func publicJWKS(keys [2]signingKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, sk := range keys {
		k, err := jwk.Import(sk.key.Public())
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		for name, v := range map[string]any{jwk.KeyIDKey: sk.kid, jwk.AlgorithmKey: jwa.RS256(), jwk.KeyUsageKey: jwk.ForSignature} {
			if err := k.Set(name, v); err != nil {
				return nil, fmt.Errorf("public key: %w", err)
			}
		}
		if err := set.AddKey(k); err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
	}
	return json.Marshal(set)
}

// newClient generates client.json: a Cognito-like client ID and a random secret.
func newClient() ([]byte, error) {
	// rand.Text is 26 base32 characters: lowercased, [a-z2-7], alphanumeric like Cognito's IDs.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generate client secret: %w", err)
	}
	c := client{
		ID:     strings.ToLower(rand.Text()),
		Secret: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)),
	}
	return json.MarshalIndent(c, "", "  ")
}

// validClientID says whether id looks like a Cognito app client ID: 26 lowercase alphanumerics.
func validClientID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
