package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/store/internal/contract"
)

// query is one page of a table newest first: (created_at, id) descending, keyset after After.
type query struct {
	table, id, columns string
	filter             string // a fixed condition rows must meet, or ""
	owner              string // "" lists every owner
	after              listing.Position
	start              bool // true: from the newest, After is ignored
	limit              int
}

// listPage runs l and scans each row with scan; it reports whether more rows follow.
func listPage[T any](ctx context.Context, db *sql.DB, l query, scan func(scanner) (T, error)) ([]T, bool, error) {
	var where []string
	var args []any
	if l.filter != "" {
		where = append(where, l.filter)
	}
	if l.owner != "" {
		where = append(where, "owner = ?")
		args = append(args, l.owner)
	}
	if !l.start {
		where = append(where, "(created_at, "+l.id+") < (?, ?)")
		args = append(args, l.after.CreatedAt.Format(contract.TimeLayout), l.after.ID)
	}
	q := "SELECT " + l.columns + " FROM " + l.table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, " + l.id + " DESC LIMIT ?"
	args = append(args, l.limit+1)

	ctx, cancel := contract.Context(ctx)
	defer cancel()
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	items := make([]T, 0, l.limit+1)
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(items) > l.limit {
		return items[:l.limit], true, nil
	}
	return items, false, nil
}
