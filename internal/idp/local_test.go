package idp

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
)

// A new data dir gets the stable LocalIssuer; one that recorded an issuer keeps it.
func TestStableIssuer(t *testing.T) {
	dir := t.TempDir()
	p, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if iss, err := p.StableIssuer(); err != nil || iss != LocalIssuer {
		t.Fatalf("new data dir: %q %v", iss, err)
	}
	old := t.TempDir()
	p, err = Open(old, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetIssuer("http://127.0.0.1:8080/_idp"); err != nil {
		t.Fatal(err)
	}
	again, err := Open(old, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if iss, err := again.StableIssuer(); err != nil || iss != "http://127.0.0.1:8080/_idp" {
		t.Fatalf("recorded issuer: %q %v", iss, err)
	}
}

// The in-process client serves the issuer's host from the provider and nothing else.
func TestHTTPClient(t *testing.T) {
	p, err := Open(t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.HTTPClient(LocalIssuer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(LocalIssuer + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(p.jwks)+"\n" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("jwks: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, err = c.Get(LocalIssuer + "/nope")
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown path: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := c.Get("http://evil.example/_idp/.well-known/jwks.json")
	if req != nil {
		req.Body.Close()
		t.Fatal("another host was answered")
	}
	if _, err := p.HTTPClient("not a url"); err == nil {
		t.Error("a relative issuer was accepted")
	}
}

// With the stable issuer, the discovery document keeps iss but points its endpoints where the
// request reached the provider.
func TestDiscoveryWithStableIssuer(t *testing.T) {
	p, err := Open(t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.StableIssuer(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	var doc map[string]any
	if err := json.NewDecoder(get(t, srv.URL+discoveryPath).Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	here := srv.URL + PathPrefix
	if doc["issuer"] != LocalIssuer || doc["jwks_uri"] != here+"/.well-known/jwks.json" || doc["token_endpoint"] != here+"/oauth2/token" {
		t.Fatalf("discovery = %v", doc)
	}
}
