package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/cli"
)

// --database-secret-arn is refused with what cannot go with it, before anything is opened.
func TestDatabaseSecretFlag(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-1"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"with a static password", []string{"--database-url", "postgres://decagon@db/decagon", "--database-password", "pw", "--database-secret-arn", arn}, "not both"},
		{"with SQLite", []string{"--database-url", "sqlite:x.db", "--database-secret-arn", arn}, "needs a postgres --database-url"},
		{"with the default database", []string{"--database-secret-arn", arn}, "needs a postgres --database-url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"migrate", "--data-dir", t.TempDir()}, c.args...), &out, &errOut)
			if cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exit %d, err %v; want a usage error containing %q", cli.ExitCode(err), err, c.want)
			}
		})
	}
	// serve and migrate read it, and DECAGON_DATABASE_SECRET_ARN; dev runs no AWS task.
	for cmd, want := range map[string]bool{"serve": true, "migrate": true, "dev": false} {
		var out bytes.Buffer
		_ = run(context.Background(), []string{cmd, "--help"}, &out, &out)
		if got := strings.Contains(out.String(), "--database-secret-arn  [DECAGON_DATABASE_SECRET_ARN]"); got != want {
			t.Errorf("%s --help lists --database-secret-arn: %v, want %v", cmd, got, want)
		}
	}
}
