package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/decagon/decagon"
)

func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	for _, c := range []struct {
		name string
		err  error
		want decagon.Code // "" keeps the error as it was (EInternal when it has no code)
	}{
		{"nil", nil, ""},
		{"admin shutdown 57P01", pg("57P01"), decagon.EUnavailable},
		{"crash shutdown 57P02", pg("57P02"), decagon.EUnavailable},
		{"cannot connect now 57P03", pg("57P03"), decagon.EUnavailable},
		{"connection failure 08006", pg("08006"), decagon.EUnavailable},
		{"connection does not exist 08003", pg("08003"), decagon.EUnavailable},
		{"too many connections 53300", pg("53300"), decagon.EUnavailable},
		{"unique violation 23505", pg("23505"), decagon.EInternal},
		{"object not in prerequisite state 55000", pg("55000"), decagon.EInternal},
		{"character not in repertoire 22021", pg("22021"), decagon.EUnprocessable},
		{"untranslatable character 22P05", pg("22P05"), decagon.EUnprocessable},
		{"connect error", &pgconn.ConnectError{}, decagon.EUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), decagon.EUnavailable},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, decagon.EUnavailable},
		{"eof", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), decagon.EUnavailable},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), decagon.EUnavailable},
		{"a plain bug", errors.New("scan: wrong column count"), decagon.EInternal},
		{"already coded", decagon.Errorf(decagon.ENotFound, "no such record"), decagon.ENotFound},
	} {
		got := classify(c.err)
		if code := decagon.ErrorCode(got); code != c.want {
			t.Errorf("%s: code %q, want %q (%v)", c.name, code, c.want, got)
		}
		if c.err != nil && !errors.Is(got, c.err) {
			t.Errorf("%s: the cause is lost from the chain: %v", c.name, got)
		}
	}
}
