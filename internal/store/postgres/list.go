package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
func listPage[T any](ctx context.Context, pool *pgxpool.Pool, l query, scan func(pgx.Row) (T, error)) ([]T, bool, error) {
	// One query text per case rather than "$1 = '' OR owner = $1": a cached generic plan then
	// still uses the right index.
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if l.filter != "" {
		where = append(where, l.filter)
	}
	if l.owner != "" {
		where = append(where, "owner = "+arg(l.owner))
	}
	if !l.start {
		where = append(where, "(created_at, "+l.id+") < ("+arg(l.after.CreatedAt)+", "+arg(l.after.ID)+"::uuid)")
	}
	q := "SELECT " + l.columns + " FROM " + l.table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, " + l.id + " DESC LIMIT " + arg(l.limit+1)

	ctx, cancel := contract.Context(ctx)
	defer cancel()
	rows, err := pool.Query(ctx, q, args...)
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
