package registry

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/cli"
)

// The flags of `decagon serve` fill ServeConfig: values given, the defaults that depend on
// another flag, and the refusals before anything is opened.
func TestServeConfigFlags(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	parse := func(args ...string) (ServeConfig, error) {
		fs := cli.New("serve", "[flags] NAME", "", &out, &out)
		var c ServeConfig
		finish := c.Flags(fs)
		if _, err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, finish(context.Background(), slog.New(slog.DiscardHandler))
	}
	c, err := parse("--addr", "0.0.0.0:9000", "--data-dir", dir, "--auth-issuer", "https://issuer.example", "--auth-client-id", "a, b",
		"--max-upload", "1MiB", "--drain", "3s", "--cloudwatch-emf", "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.Verifier == nil || c.MaxUpload != 1<<20 || c.MaxPresignedSize != DefaultMaxPresignedSize || c.Drain != 3*time.Second || c.EMF != &out {
		t.Errorf("config %+v", c)
	}
	if c.Blob.PublicURL != "http://127.0.0.1:9000" || c.Blob.DataDir != dir || c.DatabaseURL != "sqlite:"+filepath.Join(dir, "decagon.db") || c.DatabasePassword != nil {
		t.Errorf("derived: public URL %q, data dir %q, database %q", c.Blob.PublicURL, c.Blob.DataDir, c.DatabaseURL)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", dir}, "serve needs --auth-issuer and --auth-client-id"},
		{[]string{"--data-dir", dir, "--auth-issuer", "https://i.example"}, "serve needs --auth-issuer and --auth-client-id"},
		{[]string{"--data-dir", dir, "--auth-issuer", "https://i.example", "--auth-client-id", "c", "--database-url", "sqlite:x.db", "--database-secret-arn", "arn"}, "needs a postgres --database-url"},
		{[]string{"--data-dir", dir, "--auth-issuer", "https://i.example", "--auth-client-id", "c", "--database-url", "postgres://u@h/d", "--database-password", "p", "--database-secret-arn", "arn"}, "not both"},
	} {
		if _, err := parse(tc.args...); cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (exit %d), want a usage error containing %q", tc.args, err, cli.ExitCode(err), tc.want)
		}
	}
}
