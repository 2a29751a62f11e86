// Package contract holds the rules every SQL backend of internal/store applies alike, so that the
// backends behave identically: input normalization, identifier parsing, the idempotency key
// lifetime and the default query deadline.
package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/tests"
)

// DefaultTimeout bounds a store call whose context carries no deadline.
const DefaultTimeout = 5 * time.Second

// IdempotencyTTL is how long an idempotency key is honoured; older keys count as absent.
const IdempotencyTTL = 24 * time.Hour

// TimeLayout is how SQLite stores times: fixed width, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// Context returns ctx bounded by DefaultTimeout when it has no deadline of its own.
func Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// ID returns the canonical (lower-case, hyphenated) form of a UUID and whether id is one.
func ID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// Time returns t in UTC truncated to microseconds, the precision both backends keep.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Invalid returns the error for input no backend can store faithfully (NUL bytes, invalid UTF-8,
// invalid JSON, times outside years 1..9999). It is a 422 problem: such input comes from clients,
// and must never turn into a 500.
func Invalid(format string, args ...any) error {
	return problem.Newf(http.StatusUnprocessableEntity, format, args...)
}

// Record validates r and returns it as every backend stores it: canonical id, times in UTC to
// the microsecond (CreatedAt defaults to now, UpdatedAt to CreatedAt), Data nil for JSON null.
func Record(r tests.Record) (tests.Record, error) {
	id, ok := ID(r.ID)
	if !ok {
		return tests.Record{}, fmt.Errorf("test_id %q is not a UUID", r.ID)
	}
	r.ID = id
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.CreatedAt, r.UpdatedAt = Time(r.CreatedAt), Time(r.UpdatedAt)
	for _, t := range []time.Time{r.CreatedAt, r.UpdatedAt} {
		if t.Before(minTime) || t.After(maxTime) {
			return tests.Record{}, Invalid("time %s is outside years 1..9999", t.Format(time.RFC3339Nano))
		}
	}
	if err := Text("name", r.Name); err != nil {
		return tests.Record{}, err
	}
	if err := Text("owner", r.Owner); err != nil {
		return tests.Record{}, err
	}
	data := strings.TrimSpace(string(r.Data))
	switch {
	case data == "" || data == "null":
		r.Data = nil
	case !json.Valid(r.Data):
		return tests.Record{}, Invalid("data is not valid JSON")
	}
	return r, nil
}

// Idempotency validates idem; nil is valid (no key).
func Idempotency(idem *tests.Idempotency) error {
	if idem == nil {
		return nil
	}
	if idem.Key == "" {
		return Invalid("empty idempotency key")
	}
	if err := Text("idempotency key", idem.Key); err != nil {
		return err
	}
	return Text("request hash", idem.Hash)
}

// Text rejects strings PostgreSQL's text type cannot hold (NUL, invalid UTF-8), in both
// backends, so that they agree.
func Text(field, s string) error {
	if !utf8.ValidString(s) {
		return Invalid("%s is not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Invalid("%s contains a NUL character", field)
	}
	return nil
}

// Page validates p and normalizes its position. start reports that the listing begins at the
// newest record; empty that no record can follow the position (it lies before year 1).
func Page(p tests.Page) (out tests.Page, start, empty bool, err error) {
	if p.Limit < 1 {
		return tests.Page{}, false, false, fmt.Errorf("page limit %d is below 1", p.Limit)
	}
	if err := Text("owner", p.Owner); err != nil {
		return tests.Page{}, false, false, err
	}
	if p.After.IsZero() {
		return p, true, false, nil
	}
	id, ok := ID(p.After.ID)
	if !ok {
		return tests.Page{}, false, false, fmt.Errorf("page position id %q is not a UUID", p.After.ID)
	}
	p.After.ID = id
	p.After.CreatedAt = Time(p.After.CreatedAt)
	switch {
	case p.After.CreatedAt.After(maxTime):
		// Every storable record is older than a position past year 9999.
		return p, true, false, nil
	case p.After.CreatedAt.Before(minTime):
		return p, false, true, nil
	}
	return p, false, false, nil
}

// Expired reports whether an idempotency key created at keyCreated has lapsed for a request made
// at now: a key is honoured while it is younger than IdempotencyTTL.
func Expired(keyCreated, now time.Time) bool {
	return !keyCreated.After(now.Add(-IdempotencyTTL))
}
