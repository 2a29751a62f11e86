package main

import (
	"context"
	"fmt"
	"io"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "Applies the embedded schema to the database (services also do it at start-up).", stderr)
	dbFlags := addDatabaseFlags(fs)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := dbFlags.open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "schema up to date (%s)\n", db.Backend())
	return nil
}
