package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver decagon uses
)

func openStore(ctx context.Context, dbURL string) (store, error) {
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return &pgStore{pool: pool}, nil
	case strings.HasPrefix(dbURL, "sqlite:"):
		return openSQLite(strings.TrimPrefix(dbURL, "sqlite:"))
	}
	return nil, fmt.Errorf("database URL %q: want postgres://... or sqlite:PATH", dbURL)
}

const (
	selectOne  = `SELECT test_id, name, data, owner, created_at, updated_at FROM tests WHERE test_id = $1 AND owner = $2`
	selectPage = `SELECT test_id, name, data, owner, created_at, updated_at FROM tests WHERE owner = $1
		ORDER BY created_at DESC, test_id DESC LIMIT $2`
	insertTest = `INSERT INTO tests (test_id, name, data, owner, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`
	insertKey  = `INSERT INTO test_idempotency_keys (owner, key, request_hash, test_id, name, data, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	insertUpl = `INSERT INTO uploads (upload_id, owner, filename, content_type, size, sha256, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'available', $7)`
)

type pgStore struct{ pool *pgxpool.Pool }

func (s *pgStore) close() { s.pool.Close() }

func pgData(d json.RawMessage) any {
	if len(d) == 0 {
		return nil
	}
	return string(d)
}

func (s *pgStore) get(ctx context.Context, id, owner string) (record, error) {
	var r record
	var data []byte
	err := s.pool.QueryRow(ctx, selectOne, id, owner).Scan(&r.ID, &r.Name, &data, &r.Owner, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNotFound
	}
	r.Data = data
	return r, err
}

func (s *pgStore) list(ctx context.Context, owner string, limit int) ([]record, error) {
	rows, err := s.pool.Query(ctx, selectPage, owner, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]record, 0, limit)
	for rows.Next() {
		var r record
		var data []byte
		if err := rows.Scan(&r.ID, &r.Name, &data, &r.Owner, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, err
		}
		r.Data = data
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *pgStore) insert(ctx context.Context, r record) error {
	_, err := s.pool.Exec(ctx, insertTest, r.ID, r.Name, pgData(r.Data), r.Owner, r.CreatedAt, r.UpdatedAt)
	return err
}

func (s *pgStore) insertWithKey(ctx context.Context, r record, key, hash string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertKey, r.Owner, key, hash, r.ID, r.Name, pgData(r.Data), r.CreatedAt, r.UpdatedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertTest, r.ID, r.Name, pgData(r.Data), r.Owner, r.CreatedAt, r.UpdatedAt)
		return err
	})
}

func (s *pgStore) insertUpload(ctx context.Context, u upload) error {
	_, err := s.pool.Exec(ctx, insertUpl, u.ID, u.Owner, u.Filename, u.ContentType, u.Size, u.SHA256, u.CreatedAt)
	return err
}

// timeLayout is decagon's SQLite time format: fixed width, so text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// sqliteStore opens the file as decagon does: one writer connection (BEGIN IMMEDIATE) and a
// small read-only pool, WAL, synchronous=FULL.
type sqliteStore struct{ write, read *sql.DB }

// q turns the PostgreSQL placeholders into SQLite's numbered ones.
var q = strings.NewReplacer("$", "?").Replace

func openSQLite(path string) (*sqliteStore, error) {
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(5000)")
	params.Add("_pragma", "synchronous(FULL)")
	dsn := func(extra ...string) string {
		p := url.Values{}
		for k, v := range params {
			p[k] = append([]string(nil), v...)
		}
		for _, e := range extra {
			k, v, _ := strings.Cut(e, "=")
			p.Add(k, v)
		}
		return (&url.URL{Scheme: "file", Path: path, RawQuery: p.Encode()}).String()
	}
	w, err := sql.Open("sqlite", dsn("_pragma=journal_mode(WAL)", "_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn("_pragma=query_only(1)"))
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return &sqliteStore{write: w, read: r}, nil
}

func (s *sqliteStore) close() { _ = s.read.Close(); _ = s.write.Close() }

func sqliteData(d json.RawMessage) any {
	if len(d) == 0 {
		return nil
	}
	return string(d)
}

func scanSQLite(sc interface{ Scan(...any) error }) (record, error) {
	var r record
	var data sql.NullString
	var created, updated string
	if err := sc.Scan(&r.ID, &r.Name, &data, &r.Owner, &created, &updated); err != nil {
		return r, err
	}
	if data.Valid {
		r.Data = json.RawMessage(data.String)
	}
	var err error
	if r.CreatedAt, err = time.Parse(timeLayout, created); err == nil {
		r.UpdatedAt, err = time.Parse(timeLayout, updated)
	}
	return r, err
}

func (s *sqliteStore) get(ctx context.Context, id, owner string) (record, error) {
	r, err := scanSQLite(s.read.QueryRowContext(ctx, q(selectOne), id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errNotFound
	}
	return r, err
}

func (s *sqliteStore) list(ctx context.Context, owner string, limit int) ([]record, error) {
	rows, err := s.read.QueryContext(ctx, q(selectPage), owner, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]record, 0, limit)
	for rows.Next() {
		r, err := scanSQLite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteStore) insert(ctx context.Context, r record) error {
	t := r.CreatedAt.Format(timeLayout)
	_, err := s.write.ExecContext(ctx, q(insertTest), r.ID, r.Name, sqliteData(r.Data), r.Owner, t, t)
	return err
}

func (s *sqliteStore) insertWithKey(ctx context.Context, r record, key, hash string) error {
	t := r.CreatedAt.Format(timeLayout)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, q(insertKey), r.Owner, key, hash, r.ID, r.Name, sqliteData(r.Data), t, t); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, q(insertTest), r.ID, r.Name, sqliteData(r.Data), r.Owner, t, t); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqliteStore) insertUpload(ctx context.Context, u upload) error {
	_, err := s.write.ExecContext(ctx, q(insertUpl), u.ID, u.Owner, u.Filename, u.ContentType, u.Size, u.SHA256, u.CreatedAt.Format(timeLayout))
	return err
}
