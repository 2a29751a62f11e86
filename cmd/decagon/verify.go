package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/verify"
)

const verifySynopsis = `Checks the API contract against a running stage: every route of api/openapi.yaml, the
authorizer, problem documents, pagination, idempotency, uploads and the gateway's responses. It
prints one line per check and exits 1 when any fails. What it creates, it deletes.

  decagon verify --url http://127.0.0.1:8080 --token "$(decagon token)" \
                 --token-other "$(decagon token --user bob)"
  decagon verify --url https://API.execute-api.REGION.amazonaws.com/Test --token "$TOKEN"

Tokens: locally 'decagon token'; deployed, a Cognito access token (see infra/README.md).
Without --token, the token is read from $TOKEN.`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("verify", "--url URL --token TOKEN [--token-other TOKEN] [--admin-token TOKEN]", verifySynopsis, stdout, stderr)
	var cfg verify.Config
	fs.StringVar(&cfg.URL, "url", "", "the stage's base URL: http://127.0.0.1:8080 or https://…/Test (required)")
	fs.StringVar(&cfg.Token, "token", "", "a user's token (default $TOKEN)")
	fs.StringVar(&cfg.OtherToken, "token-other", "", "another user's token: checks that records stay their owner's")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "a token of a member of the admin group: checks admin reads")
	bearer := fs.Bool("bearer", true, "send 'Authorization: Bearer TOKEN'; --bearer=false sends the bare token")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("verify takes no arguments, got %q", fs.Args())
	}
	if cfg.URL == "" {
		return cli.Usagef("verify needs --url")
	}
	warnUnused(stderr, "verify", unused)
	if cfg.Token == "" {
		// Read after parsing, so that --help never prints the token as a default.
		cfg.Token = os.Getenv("TOKEN")
	}
	cfg.Out = stdout
	cfg.NoBearer = !*bearer
	res, err := verify.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("verify: %d of %d checks failed", res.Failed, res.Passed+res.Failed)
	}
	return nil
}
