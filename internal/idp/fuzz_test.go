package idp

import (
	"encoding/base64"
	"testing"
)

// FuzzParseTokenRequest feeds arbitrary Authorization headers and form bodies to the token
// request parser: it must not panic, and a parsed request must carry a grant type and both
// client credentials.
func FuzzParseTokenRequest(f *testing.F) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("client:secret"))
	f.Add(basic, "grant_type=client_credentials")
	f.Add(basic, "grant_type=client_credentials&scope=decagon%2Fread+decagon%2Fwrite")
	f.Add("", "grant_type=client_credentials&client_id=a&client_secret=b")
	f.Add(basic, "grant_type=client_credentials&client_secret=b")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("a%3Ab:c%zz")), "grant_type=x")
	f.Add("Basic !!", "grant_type=x&grant_type=y")
	f.Add("bearer x", "%")
	f.Add("", "scope=&grant_type=client_credentials")
	f.Add("", ";;&&==")
	f.Fuzz(func(t *testing.T, authorization, body string) {
		req, err := parseTokenRequest(authorization, body)
		if err != nil {
			if asOAuthError(err).code == "server_error" {
				t.Fatalf("parse error is not an OAuth error: %v", err)
			}
			return
		}
		if req.grantType == "" || req.clientID == "" || req.clientSecret == "" {
			t.Fatalf("accepted request without grant type or credentials: %+v", req)
		}
		if req.scopes != nil && len(req.scopes) == 0 {
			t.Fatalf("empty scope list accepted: %+v", req)
		}
	})
}
