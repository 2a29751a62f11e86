package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// stmts keeps one prepared statement per query text on a pool. modernc's driver compiles the
// SQL (sqlite3_prepare_v2) on every QueryContext/ExecContext and finalizes it after: about a
// tenth of a GET's CPU. A *sql.Stmt is prepared once per connection of the pool, the first time
// it runs there, and reused after; a transaction reuses the one of its connection (Tx.Stmt).
//
// Statements are prepared on first use, not at Open: the tables may not exist until Migrate has
// run. A statement that fails to prepare is not kept, so the next call tries again. SQLite
// recompiles a prepared statement by itself when the schema changes under it.
type stmts struct {
	db *sql.DB

	mu     sync.RWMutex
	m      map[string]*sql.Stmt
	closed bool
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement for query, preparing it when this is its first use.
func (s *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.m[query]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("sql: database is closed")
	}
	if st, ok := s.m[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	s.m[query] = st
	return st, nil
}

// close closes every statement; later calls to get fail.
func (s *stmts) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	for q, st := range s.m {
		err = errors.Join(err, st.Close())
		delete(s.m, q)
	}
	return err
}
