package sqlite

import (
	"context"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/decagon/decagon"
)

// classify gives a store error its decagon code when it has none yet: a full disk is
// decagon.EInsufficientStorage (507), a database locked by another process past the busy
// timeout, or a call past its deadline, is decagon.EUnavailable (503). Anything else stays as it
// is (an internal error).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *decagon.Error
	if errors.As(err, &de) {
		return err
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		switch e.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_FULL:
			return decagon.Wrap(decagon.EInsufficientStorage, err, "the database has no room left; retry later")
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return decagon.Wrap(decagon.EUnavailable, err, "the database is busy; retry in a moment")
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return decagon.Wrap(decagon.EUnavailable, err, "the database did not answer in time; retry in a moment")
	}
	return err
}
