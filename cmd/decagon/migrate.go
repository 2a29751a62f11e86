package main

import (
	"context"
	"fmt"
	"io"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("migrate", "[flags]", "Applies the embedded schema to the database (services also do it at start-up).", stdout, stderr)
	var dbFlags registry.Database
	dbFlags.Flags(fs, true)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data (the default SQLite file)")
	unused, err := fs.ParseNoArgs(args)
	if err != nil {
		return err
	}
	warnUnused(stderr, "migrate", unused)
	dbURL, password, err := dbFlags.Resolve(ctx, *dataDir)
	if err != nil {
		return err
	}
	db, applied, err := store.MigrateCounted(ctx, dbURL, store.WithPassword(password))
	if err != nil {
		return err
	}
	defer db.Close()
	switch applied {
	case 0:
		fmt.Fprintf(stdout, "schema already up to date (%s)\n", db.Backend())
	case 1:
		fmt.Fprintf(stdout, "applied 1 migration (%s)\n", db.Backend())
	default:
		fmt.Fprintf(stdout, "applied %d migrations (%s)\n", applied, db.Backend())
	}
	return nil
}
