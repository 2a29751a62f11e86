package main

import (
	"context"
	"fmt"
	"io"

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
	finish := cfg.Flags(fs)
	unused, err := fs.ParseNoArgs(args)
	if err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	warnUnused(stderr, "verify", unused)
	res, err := verify.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("verify: %d of %d checks failed", res.Failed, res.Passed+res.Failed)
	}
	return nil
}
