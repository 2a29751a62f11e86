// Package contract holds the rules every SQL backend of internal/store applies alike, so that the
// backends behave identically: input normalization, identifier parsing, the idempotency key
// lifetime, the default query deadline and the errors for input no backend can store.
//
// It may import the root package decagon, the domain packages (internal/records,
// internal/uploads, internal/listing) and the standard library; never
// net/http, internal/problem or internal/web.
package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
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
	if len(id) == 36 && !hasUpper(id) {
		return id, true // already canonical: the common case, without a copy
	}
	return u.String(), true
}

// hasUpper reports whether s holds an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// Time returns t in UTC truncated to microseconds, the precision both backends keep.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Invalid returns the error for input no backend can store faithfully (NUL bytes, invalid UTF-8,
// invalid JSON, times outside years 1..9999). It is decagon.EUnprocessable (422): such input
// comes from clients, and must never turn into a 500.
func Invalid(format string, args ...any) error {
	return decagon.Errorf(decagon.EUnprocessable, format, args...)
}

// Record validates r and returns it as every backend stores it: canonical id, times in UTC to
// the microsecond (CreatedAt defaults to now, UpdatedAt to CreatedAt), Data nil for JSON null.
func Record(r records.Record) (records.Record, error) {
	id, ok := ID(r.ID)
	if !ok {
		return records.Record{}, fmt.Errorf("test_id %q is not a UUID", r.ID)
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
			return records.Record{}, Invalid("time %s is outside years 1..9999", t.Format(time.RFC3339Nano))
		}
	}
	if err := Text("name", r.Name); err != nil {
		return records.Record{}, err
	}
	if err := Text("owner", r.Owner); err != nil {
		return records.Record{}, err
	}
	data := strings.TrimSpace(string(r.Data))
	switch {
	case data == "" || data == "null":
		r.Data = nil
	case !utf8.Valid(r.Data):
		// json.Valid accepts invalid UTF-8 in strings, which PostgreSQL refuses and SQLite would
		// keep: refuse it in both. (An escaped lone surrogate is ASCII text both keep as sent;
		// the HTTP side refuses it in request bodies.)
		return records.Record{}, Invalid("data is not valid UTF-8")
	case !json.Valid(r.Data):
		return records.Record{}, Invalid("data is not valid JSON")
	}
	return r, nil
}

// Idempotency validates idem; nil is valid (no key).
func Idempotency(idem *records.Idempotency) error {
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

// Listing validates p and normalizes its position. start reports that the listing begins at the
// newest item; empty that no item can follow the position (it lies before year 1).
func Listing(p listing.Request) (out listing.Request, start, empty bool, err error) {
	if p.Limit < 1 {
		return listing.Request{}, false, false, fmt.Errorf("page limit %d is below 1", p.Limit)
	}
	if err := Text("owner", p.Owner); err != nil {
		return listing.Request{}, false, false, err
	}
	if p.After.IsZero() {
		return p, true, false, nil
	}
	id, ok := ID(p.After.ID)
	if !ok {
		return listing.Request{}, false, false, fmt.Errorf("page position id %q is not a UUID", p.After.ID)
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

// KeyReused is the error for an Idempotency-Key reused with another request body: 422, as the
// IETF idempotency-key draft says, with a message for the client.
func KeyReused() error {
	return decagon.Errorf(decagon.EUnprocessable,
		"this Idempotency-Key was already used with another request body; resend the same body to replay, or use a new key")
}

// Duplicate is the error for an identifier that is already taken (the service makes them, so
// this is a state conflict, not the client's input).
func Duplicate(what string) error {
	return decagon.Errorf(decagon.EConflict, "%s already exists", what)
}
