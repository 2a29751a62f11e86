package idp

import (
	"encoding/json"
	"github.com/decagon/decagon/internal/auth"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// shared is one provider for tests that do not care about its directory: generating RSA keys
// is the slow part of these tests.
var (
	sharedOnce sync.Once
	shared     *Provider
	sharedErr  error
)

func sharedProvider(t *testing.T) *Provider {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "idp-test-")
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = Open(dir, Config{})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		os.RemoveAll(filepath.Dir(shared.dir))
	}
	os.Exit(code)
}

func TestOpenPersists(t *testing.T) {
	dataDir := t.TempDir()
	p1, err := Open(dataDir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p1.Mint(MintOptions{Issuer: "http://127.0.0.1:1/_idp", User: "alice", Type: "id"})
	if err != nil {
		t.Fatal(err)
	}

	p2, err := Open(dataDir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p1.ClientID() != p2.ClientID() || p1.ClientSecret() != p2.ClientSecret() {
		t.Fatal("client changed across Open")
	}
	if string(p1.jwks) != string(p2.jwks) || p1.keys[0].kid != p2.keys[0].kid {
		t.Fatal("keys changed across Open")
	}
	if p1.keys[0].kid == p1.keys[1].kid || p1.keys[0].key.Equal(p1.keys[1].key) {
		t.Fatal("the two keys are one")
	}
	// A token minted before the "restart" still verifies against the reopened provider's JWKS.
	verifyWith(t, p2, "http://127.0.0.1:1/_idp", tok, auth.Requirement{})

	dir := filepath.Join(dataDir, "idp")
	assertMode(t, dir, 0o700|os.ModeDir)
	for _, name := range []string{keysFile, clientFile} {
		assertMode(t, filepath.Join(dir, name), 0o600)
	}
	if !validClientID(p1.ClientID()) || len(p1.ClientSecret()) < 40 {
		t.Errorf("client %q / secret of %d chars", p1.ClientID(), len(p1.ClientSecret()))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestOpenConcurrentFirstUse(t *testing.T) {
	dataDir := t.TempDir()
	const n = 4
	providers := make([]*Provider, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			providers[i], errs[i] = Open(dataDir, Config{})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if string(providers[i].jwks) != string(providers[0].jwks) || providers[i].ClientID() != providers[0].ClientID() ||
			providers[i].ClientSecret() != providers[0].ClientSecret() {
			t.Fatalf("Open %d disagrees with Open 0", i)
		}
	}
}

func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"keys not JSON", keysFile, "nope"},
		{"one key", keysFile, `{"keys":[]}`},
		{"client not JSON", clientFile, "nope"},
		{"client id bad", clientFile, `{"client_id":"UPPER","client_secret":"0123456789abcdef0123456789abcdef"}`},
	}
	good := sharedProvider(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			dir := filepath.Join(dataDir, "idp")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			// Copy the good files so only the corrupt one is wrong (and no keys are generated).
			for _, name := range []string{keysFile, clientFile} {
				data, err := os.ReadFile(filepath.Join(good.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if name == tc.file {
					data = []byte(tc.content)
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(dataDir, Config{})
			if err == nil || !strings.Contains(err.Error(), "delete it") {
				t.Fatalf("Open = %v, want an error telling how to recover", err)
			}
		})
	}
}

func TestOpenConfig(t *testing.T) {
	if _, err := Open("", Config{}); err == nil {
		t.Error("Open with no directory succeeded")
	}
	if _, err := Open(t.TempDir(), Config{Scopes: []string{"bad scope"}}); err == nil {
		t.Error("Open with a bad scope succeeded")
	}
}

func TestIssuer(t *testing.T) {
	q := &Provider{dir: filepath.Join(t.TempDir(), "idp")} // same files as a second process would see
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Issuer(); err == nil || !strings.Contains(err.Error(), "start `decagon dev` first") {
		t.Fatalf("Issuer before SetIssuer = %v", err)
	}
	for _, bad := range []string{"", "/_idp", "ftp://h/_idp", "http://h/_idp/", "http://h/_idp?x=1", "http://u:p@h/_idp"} {
		if err := q.SetIssuer(bad); err == nil {
			t.Errorf("SetIssuer(%q) succeeded", bad)
		}
	}
	const issuer = "http://127.0.0.1:8080/_idp"
	if err := q.SetIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	other := &Provider{dir: q.dir}
	if got, err := other.Issuer(); err != nil || got != issuer {
		t.Fatalf("Issuer from another process = %q, %v", got, err)
	}
	assertMode(t, filepath.Join(q.dir, issuerFile), 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

// decodePart decodes a JWT part into a map.
func decodePart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	data, err := b64d(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
