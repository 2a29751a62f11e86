package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/decagon/decagon"
)

// unavailable is the client's message when the database cannot be reached.
const unavailable = "the database is unavailable; retry in a moment"

// classify gives a store error its decagon code when it has none yet: a server that cannot be
// reached, is shutting down or refuses connections is decagon.EUnavailable (503 with
// Retry-After, never a 500); text PostgreSQL cannot hold is decagon.EUnprocessable. Anything
// else stays as it is (an internal error).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *decagon.Error
	if errors.As(err, &de) {
		return err
	}
	switch {
	case isUnavailable(err):
		return decagon.Wrap(decagon.EUnavailable, err, unavailable)
	case sqlState(err) == "22021", sqlState(err) == "22P05": // character_not_in_repertoire, untranslatable_character
		return decagon.Wrap(decagon.EUnprocessable, err, "the request holds text the database cannot store")
	}
	return err
}

// isUnavailable reports whether err says the server could not be reached or went away: a
// failed connect (refused, reset, timed out), a connection lost mid-request, SQLSTATE class 08
// (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect now) or
// 53300 (too many connections), or the call's deadline passing (a server too slow to answer is
// unavailable to this request).
func isUnavailable(err error) bool {
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) {
		return true
	}
	switch code := sqlState(err); {
	case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return true
	case code != "":
		return false // the server answered
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) ||
		errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// sqlState returns the SQLSTATE of a server error in err's chain, or "".
func sqlState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}
