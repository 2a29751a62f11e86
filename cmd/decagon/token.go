package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/idp"
)

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := cli.New("token", "[flags]", "Mints a token the local stack in --data-dir accepts and prints it alone on stdout.", stdout, stderr)
	dataDir := fs.String("data-dir", ".decagon", "the data dir of the `decagon dev` the token is for")
	user := fs.String("user", "dev", "user name (cognito:username); the token's sub is derived from it")
	groups := fs.String("groups", "", "comma-separated groups (cognito:groups), e.g. admin")
	typ := fs.String("type", "access", "token type: access (what the API wants) or id (refused by every scoped route, as API Gateway does)")
	scope := fs.String("scope", "", "space- or comma-separated scopes of an access token (default aws.cognito.signin.user.admin, a signed-in user's)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime, 1m to 24h")
	issuer := fs.String("issuer", "", "issuer URL (default: the stack's, kept in --data-dir)")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("token takes no arguments, got %q", fs.Args())
	}
	warnUnused(stderr, "token", unused)
	provider, err := idp.Open(*dataDir, idp.Config{})
	if err != nil {
		return err
	}
	iss := *issuer
	if iss == "" {
		// The stack's issuer, or the one it will take: a token minted before the first
		// `decagon dev` of this data dir works once it runs.
		if iss, err = provider.StableIssuer(); err != nil {
			return err
		}
	}
	tok, err := provider.Mint(idp.MintOptions{
		Issuer: iss,
		User:   *user,
		Groups: cli.List(*groups),
		Type:   *typ,
		Scopes: strings.Fields(strings.ReplaceAll(*scope, ",", " ")),
		TTL:    *ttl,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
