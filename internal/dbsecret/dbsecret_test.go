package dbsecret_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/decagon/decagon/internal/dbsecret"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, raw, user, password, err string
	}{
		{"RDS managed master secret", `{"username":"decagon","password":"p:w/\"x"}`, "decagon", `p:w/"x`, ""},
		{"RDS secret with more keys", `{"engine":"postgres","host":"h","port":5432,"username":"u","password":"pw","dbname":"d"}`, "u", "pw", ""},
		{"no password", `{"username":"decagon"}`, "", "", "no password"},
		{"empty password", `{"username":"decagon","password":""}`, "", "", "no password"},
		{"a plain string, not JSON", `hunter2`, "", "", "not a JSON object"},
		{"password of the wrong type", `{"username":"u","password":12345}`, "", "", "not a JSON object"},
		{"truncated", `{"username":"u","password":"hunter2`, "", "", "not a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := dbsecret.Parse(c.raw)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("err %v, want one containing %q and not the secret", err, c.err)
				}
				return
			}
			if err != nil || s.Username != c.user || s.Password != c.password {
				t.Fatalf("Parse = %+v, %v; want %q / %q", s, err, c.user, c.password)
			}
		})
	}
}

// The secret comes from AWS, yet a parser of bytes from outside gets a fuzz target: it never
// panics, and its errors never hold the text it was given.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{`{"username":"u","password":"p"}`, `{"password":""}`, `[]`, `"x"`, `{"password":"\ud800"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := dbsecret.Parse(raw)
		if err == nil && s.Password == "" {
			t.Fatalf("accepted %q without a password", raw)
		}
		if err != nil && len(raw) > 3 && strings.Contains(err.Error(), raw) {
			t.Fatalf("error %q quotes the input", err)
		}
	})
}

// Source reads the secret through the AWS SDK at each call (the pool caches, not the
// source): here against a handler speaking Secrets Manager's JSON protocol, the endpoint set
// as the SDK reads it from the environment, the region taken from the ARN.
func TestSource(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-1234-AbCdEf"
	var password atomic.Value
	password.Store("first")
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		switch {
		case r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue":
			t.Errorf("operation %q", r.Header.Get("X-Amz-Target"))
		case in.SecretId != arn:
			t.Errorf("SecretId %q, want the ARN", in.SecretId)
		case !strings.Contains(r.Header.Get("Authorization"), "/eu-west-3/secretsmanager/"):
			t.Errorf("not signed for the ARN's region: %q", r.Header.Get("Authorization"))
		}
		secret, _ := json.Marshal(map[string]string{"username": "decagon", "password": password.Load().(string)})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": arn, "Name": "rds!db-1234", "SecretString": string(secret), "VersionId": "v1"})
	}))
	defer srv.Close()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "secret",
		"AWS_REGION":                       "",
		"AWS_DEFAULT_REGION":               "",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":        "true",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	src, err := dbsecret.Source(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "second"} {
		password.Store(want)
		got, err := src(ctx)
		if err != nil || got != want {
			t.Fatalf("source = %q, %v; want %q", got, err, want)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d calls to Secrets Manager, want 2", n)
	}
	if _, err := dbsecret.Source(ctx, "rds!db-1234"); err == nil || !strings.Contains(err.Error(), "ARN") {
		t.Fatalf("a secret name instead of its ARN: %v", err)
	}
}
