package sqlite

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/records"
)

// TestFullDatabaseIsInsufficientStorage (issue 11, the directory's disk full): SQLite answering
// SQLITE_FULL is decagon.EInsufficientStorage (507), not an internal error, and nothing of the
// refused record is kept. max_page_count stands in for a full disk: SQLite reports both alike.
func TestFullDatabaseIsInsufficientStorage(t *testing.T) {
	db, err := Open(t.Context(), Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.write.QueryRowContext(t.Context(), "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(t.Context(), "PRAGMA max_page_count = "+strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("n", 200)
	data := []byte(`{"k":"` + strings.Repeat("x", 60<<10) + `"}`)
	var last error
	for i := 0; i < 50 && last == nil; i++ {
		r := records.Record{ID: uuid.NewString(), Name: name, Data: data, Owner: "alice", CreatedAt: time.Now()}
		_, _, last = db.Tests().Create(context.Background(), r, &records.Idempotency{Key: uuid.NewString(), Hash: "h"})
	}
	if !errors.Is(last, &decagon.Error{Code: decagon.EInsufficientStorage}) {
		t.Fatalf("err = %v (code %q), want decagon.EInsufficientStorage", last, decagon.ErrorCode(last))
	}
}
