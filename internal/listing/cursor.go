// Package listing holds what every listing shares, apart from HTTP: the listing request
// (Request: whose items, how many, after which position), a position in the newest-first order
// and the opaque cursor clients carry between pages. Reading a request from a URL and writing a
// page are the HTTP side's business (internal/web).
//
// It may import the standard library (not net/http) and github.com/google/uuid, nothing of
// decagon's.
package listing

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The cursor is opaque to clients: base64url of "v1.<created_at unix µs>.<test_id>", the position
// the previous page ended at. Keyset pagination on (created_at, test_id) keeps pages correct
// while records are added: newer records sort before the position and never shift later pages.
const cursorVersion = "v1"

var errBadCursor = errors.New("malformed cursor")

// Limits of every listing.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Request asks for one page of a listing, newest first. Every store takes it.
type Request struct {
	// Owner filters by owner; "" means every owner (admins only).
	Owner string
	// Limit is the page size, 1..MaxLimit.
	Limit int
	// After is the position the previous page ended at; the zero value starts at the newest.
	After Position
}

// Position is a place in the newest-first order (created_at, then id, descending): records
// strictly older than it come next.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether p is the start of the listing.
func (p Position) IsZero() bool { return p.ID == "" && p.CreatedAt.IsZero() }

// Encode returns the opaque cursor for p.
func Encode(p Position) string {
	raw := cursorVersion + "." + strconv.FormatInt(p.CreatedAt.UnixMicro(), 10) + "." + p.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Decode parses a cursor made by Encode; anything else is an error.
func Decode(s string) (Position, error) {
	if len(s) == 0 || len(s) > 256 {
		return Position{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, errBadCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return Position{}, errBadCursor
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	// Bound the time to years 1970..9999 so it fits every backend's timestamp type.
	if err != nil || us < 0 || us > 253402300799999999 {
		return Position{}, errBadCursor
	}
	id, err := uuid.Parse(parts[2])
	if err != nil || id.String() != parts[2] {
		return Position{}, errBadCursor
	}
	return Position{CreatedAt: time.UnixMicro(us).UTC(), ID: parts[2]}, nil
}
