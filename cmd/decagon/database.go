package main

import (
	"github.com/decagon/decagon/internal/cli"

	"github.com/decagon/decagon/internal/store"
)

// databaseFlags are the flags of every command that opens the database.
type databaseFlags struct {
	url, password *string
}

func addDatabaseFlags(fs *cli.FlagSet) databaseFlags {
	return databaseFlags{
		url:      fs.String("database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)"),
		password: fs.String("database-password", "", "password added to a postgres --database-url that has none (ECS passes it from Secrets Manager)"),
	}
}

// databaseURL is the URL the flags name, a SQLite file in dataDir by default.
func (f databaseFlags) databaseURL(dataDir string) (string, error) {
	return store.URL(*f.url, *f.password, dataDir)
}
