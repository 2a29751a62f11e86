package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// database is one backend's database of its own: a SQLite file in the run directory, or a
// PostgreSQL database created for the run and dropped after it.
type database struct {
	backend string // sqlite | postgres
	url     string
	drop    func() error
}

func openDatabase(ctx context.Context, backend, dir, adminURL string) (*database, error) {
	switch backend {
	case "sqlite":
		path := filepath.Join(dir, "sqlite", "bench.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		return &database{backend: backend, url: "sqlite:" + path, drop: func() error { return nil }}, nil
	case "postgres":
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return nil, fmt.Errorf("postgres at %s: %w", adminURL, err)
		}
		defer conn.Close(context.Background())
		name := fmt.Sprintf("decagon_bench_%d", os.Getpid())
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("create database %s: %w", name, err)
		}
		u, err := url.Parse(adminURL)
		if err != nil {
			return nil, err
		}
		u.Path = "/" + name
		drop := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, adminURL)
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			return err
		}
		return &database{backend: backend, url: u.String(), drop: drop}, nil
	}
	return nil, fmt.Errorf("unknown backend %q (sqlite, postgres)", backend)
}
