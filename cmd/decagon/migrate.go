package main

import (
	"context"
	"fmt"
	"io"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "Applies the embedded schema to the database (services also do it at start-up).", stderr)
	dbRaw := fs.String("database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)")
	dbPassword := fs.String("database-password", "", "password added to a postgres --database-url that has none")
	dataDir := fs.String("data-dir", ".decagon", "directory for local data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dbURL, err := databaseURL(*dbRaw, *dbPassword, *dataDir)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "schema up to date (%s)\n", db.Backend())
	return nil
}
