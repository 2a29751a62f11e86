package main

import (
	"context"
	"strings"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/dbsecret"
	"github.com/decagon/decagon/internal/store"
)

// databaseFlags are the flags of every command that opens the database.
type databaseFlags struct {
	url, password *string
	secretARN     *string // nil unless withSecret added --database-secret-arn
}

func addDatabaseFlags(fs *cli.FlagSet) databaseFlags {
	return databaseFlags{
		url:      fs.String("database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)"),
		password: fs.String("database-password", "", "password added to a postgres --database-url that has none, read once at start (it does not follow a rotation: prefer --database-secret-arn)"),
	}
}

// withSecret adds --database-secret-arn, for the commands that run in AWS (serve, migrate).
func (f databaseFlags) withSecret(fs *cli.FlagSet) databaseFlags {
	f.secretARN = fs.String("database-secret-arn", "", "ARN of the Secrets Manager secret holding the postgres password as JSON {\"username\",\"password\"} (RDS's managed secret): read for new connections, cached 5 minutes and read again when the server refuses it, so a rotation needs no restart")
	return f
}

// databaseURL is the URL the flags name, a SQLite file in dataDir by default.
func (f databaseFlags) databaseURL(dataDir string) (string, error) {
	return store.URL(*f.url, *f.password, dataDir)
}

// passwordSource is the source of the postgres password the flags name, or nil when the URL
// (with --database-password) says it all.
func (f databaseFlags) passwordSource(ctx context.Context) (store.PasswordSource, error) {
	if f.secretARN == nil || *f.secretARN == "" {
		return nil, nil
	}
	if *f.password != "" {
		return nil, cli.Usagef("give --database-password or --database-secret-arn, not both")
	}
	if !strings.HasPrefix(*f.url, "postgres://") && !strings.HasPrefix(*f.url, "postgresql://") {
		return nil, cli.Usagef("--database-secret-arn needs a postgres --database-url")
	}
	return dbsecret.Source(ctx, *f.secretARN)
}
