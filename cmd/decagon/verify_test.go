package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// `decagon verify --url` passes against `decagon dev`: the built binary, black-box, with the
// tokens `decagon token` mints (a user, another user, an admin), at the root and at the
// stage's invoke-URL form (/Test).
func TestVerifyAgainstDev(t *testing.T) {
	_, bin := cliBinary(t)
	dev := startCLIDev(t, bin, t.TempDir())
	tok := dev.token(t, bin)
	other := dev.token(t, bin, "--user", "verify-other")
	admin := dev.token(t, bin, "--user", "verify-admin", "--groups", "admin")
	for _, c := range []struct{ name, url string }{{"root", dev.url}, {"stage", dev.url + "/Test"}} {
		url := c.url
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out, errOut bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, "verify", "--url", url, "--token", tok, "--token-other", other, "--admin-token", admin)
			cmd.Env = cliEnv()
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			if err != nil || strings.Contains(out.String(), "FAIL") {
				t.Fatalf("decagon verify --url %s: %v\n%s%s", url, err, out.String(), errOut.String())
			}
			last := strings.TrimSpace(out.String())
			last = last[strings.LastIndex(last, "\n")+1:]
			if !strings.Contains(last, " passed, 0 failed") || strings.HasPrefix(last, "0 passed") {
				t.Fatalf("closing line %q\n%s", last, out.String())
			}
			// The local stack serves every route, its signed URLs included, and every token was
			// given: nothing may be skipped.
			if strings.Contains("\n"+out.String(), "\nskip ") {
				t.Errorf("checks skipped against decagon dev:\n%s", out.String())
			}
		})
	}
	// A stage that refuses the token fails verify with a non-zero exit.
	cmd := exec.Command(bin, "verify", "--url", dev.url, "--token", "not-a-token")
	cmd.Env = cliEnv()
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("verify with a bad token exited 0:\n%s", out)
	}
	if !strings.Contains(string(out), "FAIL records: POST /test is 201") {
		t.Errorf("the failing check is not named:\n%s", out)
	}
}
