package idp

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// maxTokenRequestBytes bounds a token request body; real ones are under 1 KiB.
	maxTokenRequestBytes = 16 << 10
	// clientCredentialsTTL is the lifetime of client_credentials tokens, as Cognito's default.
	clientCredentialsTTL = time.Hour
)

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	status      int
	code        string // error
	description string // error_description, "" for none
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func badRequest(code, description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, description: description}
}

// errInvalidClient is the one answer to every client authentication failure: which part was
// wrong is not said.
var errInvalidClient = &oauthError{status: http.StatusUnauthorized, code: "invalid_client"}

// tokenRequest is a parsed token request.
type tokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	scopes       []string // nil when the request names none
}

// serveToken implements POST /_idp/oauth2/token for the client_credentials grant.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, badRequest("invalid_request", "content type must be application/x-www-form-urlencoded"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	if err != nil {
		writeOAuthError(w, badRequest("invalid_request", "request body unreadable or too large"))
		return
	}
	req, err := parseTokenRequest(r.Header.Get("Authorization"), string(body))
	if err != nil {
		writeOAuthError(w, asOAuthError(err))
		return
	}
	// Both comparisons always run, so timing tells nothing about which part was wrong.
	idOK := subtle.ConstantTimeCompare([]byte(req.clientID), []byte(p.client.ID))
	secretOK := subtle.ConstantTimeCompare([]byte(req.clientSecret), []byte(p.client.Secret))
	if idOK&secretOK != 1 {
		writeOAuthError(w, errInvalidClient)
		return
	}
	if req.grantType != "client_credentials" {
		writeOAuthError(w, badRequest("unsupported_grant_type", "only client_credentials is supported"))
		return
	}
	scopes := req.scopes
	if scopes == nil {
		scopes = p.scopes // as Cognito: no scope asked means every scope the client may have
	}
	for _, s := range scopes {
		if !slices.Contains(p.scopes, s) {
			writeOAuthError(w, badRequest("invalid_scope", "scope "+s+" is not allowed for this client"))
			return
		}
	}
	tok, err := p.mintClientCredentials(p.issuerFor(r), scopes, clientCredentialsTTL)
	if err != nil {
		p.logger.ErrorContext(r.Context(), "idp: mint client_credentials token", "err", err)
		writeOAuthError(w, &oauthError{status: http.StatusInternalServerError, code: "server_error"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int(clientCredentialsTTL / time.Second),
		"token_type":   "Bearer",
	})
}

// parseTokenRequest parses a token request from its Authorization header and form body. Client
// credentials come from HTTP Basic (RFC 6749 §2.3.1: form-urlencoded, then base64) or from the
// client_id and client_secret form parameters, never both; parameters may not repeat.
func parseTokenRequest(authorization, body string) (tokenRequest, error) {
	var req tokenRequest
	form, err := url.ParseQuery(body)
	if err != nil {
		return req, badRequest("invalid_request", "malformed form body")
	}
	for name, values := range form {
		if len(values) > 1 {
			return req, badRequest("invalid_request", "parameter "+name+" repeated")
		}
	}
	req.grantType = form.Get("grant_type")
	if req.grantType == "" {
		return req, badRequest("invalid_request", "grant_type missing")
	}
	if raw, present := form["scope"]; present {
		req.scopes = strings.Fields(raw[0])
		if len(req.scopes) == 0 {
			return req, badRequest("invalid_scope", "empty scope")
		}
	}

	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	if authorization == "" {
		if formID == "" || formSecret == "" {
			return req, errInvalidClient
		}
		req.clientID, req.clientSecret = formID, formSecret
		return req, nil
	}
	scheme, encoded, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return req, errInvalidClient
	}
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return req, errInvalidClient
	}
	rawID, rawSecret, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return req, errInvalidClient
	}
	if req.clientID, err = url.QueryUnescape(rawID); err != nil {
		return req, errInvalidClient
	}
	if req.clientSecret, err = url.QueryUnescape(rawSecret); err != nil || req.clientID == "" || req.clientSecret == "" {
		return req, errInvalidClient
	}
	if formSecret != "" {
		return req, badRequest("invalid_request", "client authenticated by more than one method")
	}
	if formID != "" && formID != req.clientID {
		return req, badRequest("invalid_request", "client_id differs from the authenticated client")
	}
	return req, nil
}

// asOAuthError returns err as an *oauthError, or a server_error.
func asOAuthError(err error) *oauthError {
	var oe *oauthError
	if errors.As(err, &oe) {
		return oe
	}
	return &oauthError{status: http.StatusInternalServerError, code: "server_error"}
}

// writeOAuthError writes e as an RFC 6749 §5.2 JSON error; invalid_client comes with a Basic
// challenge, as RFC 6749 asks of a 401.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="decagon"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	body := map[string]string{"error": e.code}
	if e.description != "" {
		body["error_description"] = e.description
	}
	writeJSON(w, e.status, body)
}
