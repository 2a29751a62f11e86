package main

import (
	"fmt"
	"io"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/idp"
)

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := cli.New("token", "[flags]", "Mints a token the local stack in --data-dir accepts and prints it alone on stdout.", stdout, stderr)
	dataDir := fs.String("data-dir", ".decagon", "the data dir of the `decagon dev` the token is for")
	var opts idp.MintOptions
	finish := opts.Flags(fs)
	unused, err := fs.ParseNoArgs(args)
	if err != nil {
		return err
	}
	warnUnused(stderr, "token", unused)
	finish()
	provider, err := idp.Open(*dataDir, idp.Config{})
	if err != nil {
		return err
	}
	if opts.Issuer == "" {
		// The stack's issuer, or the one it will take: a token minted before the first
		// `decagon dev` of this data dir works once it runs.
		if opts.Issuer, err = provider.StableIssuer(); err != nil {
			return err
		}
	}
	tok, err := provider.Mint(opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
