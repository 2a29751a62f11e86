package devstack

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/cli"
)

// The flags of `decagon dev` fill LocalConfig; the bad values are usage errors before the
// stack starts.
func TestLocalConfigFlags(t *testing.T) {
	dir := t.TempDir()
	parse := func(args ...string) (LocalConfig, error) {
		var out bytes.Buffer
		flags := cli.New("dev", "[flags]", "", &out, &out)
		var c LocalConfig
		finish := c.Flags(flags)
		if _, err := flags.ParseNoArgs(args); err != nil {
			return c, err
		}
		return c, finish(slog.New(slog.DiscardHandler))
	}
	// The default --config, absent from the test's directory, is the built-in topology.
	c, err := parse("--data-dir", dir, "--allowed-hosts", "a.example, b.example", "--max-upload", "2MiB", "--trusted-proxies", "10.0.0.0/8", "--scaling-speedup", "60", "--watch")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.Topology == nil || !c.WAF || !c.Watch || c.ScalingSpeedup != 60 || c.MaxUpload != 2<<20 || c.LogLevel != "info" || c.Logger == nil {
		t.Errorf("config %+v", c)
	}
	if strings.Join(c.AllowedHosts, " ") != "a.example b.example" || c.TrustedProxies == nil || c.DatabaseURL != "sqlite:"+filepath.Join(dir, "decagon.db") {
		t.Errorf("hosts %q, proxies %v, database %q", c.AllowedHosts, c.TrustedProxies, c.DatabaseURL)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"extra"}, "dev takes no arguments"},
		{[]string{"--scaling-speedup", "0"}, "--scaling-speedup must be at least 1"},
		{[]string{"--trusted-proxies", "nope"}, "--trusted-proxies"},
	} {
		if _, err := parse(tc.args...); cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (exit %d), want a usage error containing %q", tc.args, err, cli.ExitCode(err), tc.want)
		}
	}
	// A --config named explicitly must exist.
	if _, err := parse("--data-dir", dir, "--config", filepath.Join(dir, "none.yaml")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing --config: %v", err)
	}
}

// The flags of `decagon edge` fill EdgeConfig: --access-log "-" is the command's stdout, a path
// is a file ServeEdge opens, and the stage's throttling may be replaced.
func TestEdgeConfigFlags(t *testing.T) {
	parse := func(args ...string) (EdgeConfig, *bytes.Buffer, error) {
		var out bytes.Buffer
		flags := cli.New("edge", "[flags]", "", &out, &out)
		var c EdgeConfig
		finish := c.Flags(flags)
		if _, err := flags.ParseNoArgs(args); err != nil {
			return c, &out, err
		}
		return c, &out, finish(slog.New(slog.DiscardHandler))
	}
	auth := []string{"--auth-issuer", "https://issuer.example", "--auth-client-id", "c"}
	c, out, err := parse(append(auth, "--target", "tests=127.0.0.1:1", "--stage-rate-limit", "50000", "--stage-burst-limit", "100")...)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessLog != out || c.AccessLogFile != "" || c.Verifier == nil || len(c.Targets["tests"]) != 1 || c.Topology.Stage.Throttling.RateLimit != 50000 {
		t.Errorf("config %+v", c)
	}
	if c, _, err = parse(append(auth, "--access-log", "edge.log")...); err != nil || c.AccessLog != nil || c.AccessLogFile != "edge.log" {
		t.Errorf("--access-log edge.log: %v, writer %v, file %q", err, c.AccessLog, c.AccessLogFile)
	}
	if c, _, err = parse(append(auth, "--access-log", "")...); err != nil || c.AccessLog != nil || c.AccessLogFile != "" {
		t.Errorf("--access-log '': %v, writer %v, file %q", err, c.AccessLog, c.AccessLogFile)
	}
	if _, _, err := parse(); cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), "edge needs --auth-issuer") {
		t.Errorf("no issuer: %v", err)
	}
	// The file is opened before the edge starts: a path it cannot write is refused at once.
	if err := ServeEdge(context.Background(), EdgeConfig{AccessLogFile: filepath.Join(t.TempDir(), "no", "edge.log")}); err == nil || !strings.Contains(err.Error(), "--access-log") {
		t.Errorf("unwritable --access-log: %v", err)
	}
}
