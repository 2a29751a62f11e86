package sqlite

import (
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings durability and concurrency depend on, on every connection kind.
func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p q?#%.db") // characters a file: URI must escape
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, c := range []struct {
		name, pragma, want string
		read               bool
	}{
		{"writer journal", "journal_mode", "wal", false},
		{"writer sync", "synchronous", "2", false},
		{"writer busy", "busy_timeout", busyTimeoutMS, false},
		{"writer fk", "foreign_keys", "1", false},
		{"reader journal", "journal_mode", "wal", true},
		{"reader query_only", "query_only", "1", true},
		{"reader busy", "busy_timeout", busyTimeoutMS, true},
	} {
		conn := db.write
		if c.read {
			conn = db.read
		}
		var got string
		if err := conn.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: PRAGMA %s = %q, want %q", c.name, c.pragma, got, c.want)
		}
	}
	var file string
	if err := db.write.QueryRowContext(t.Context(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Errorf("database file %q, want %q", file, path)
	}
	if _, err := db.read.ExecContext(t.Context(), "CREATE TABLE x (a)"); err == nil {
		t.Error("a read connection could write")
	}
}
