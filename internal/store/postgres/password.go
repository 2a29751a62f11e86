package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/decagon/decagon"
)

// PasswordTTL is how long a fetched password is used for new connections before it is fetched
// again. RDS rotates its managed password every 7 days; the refetch on a rejected password
// (SQLSTATE 28P01) is what makes a rotation cheap, the TTL only bounds how long a stale value
// can linger without a rejection.
const PasswordTTL = 5 * time.Minute

// passwords gives every new connection of the pool its password from fetch (an RDS-managed
// secret that rotates, so that a running task keeps connecting after a rotation), caching the
// value for ttl. A password the server rejects is dropped at once: the next connection fetches
// again instead of failing until the TTL passes.
type passwords struct {
	fetch func(context.Context) (string, error)
	ttl   time.Duration

	// mu is held across a fetch, so that the connections opened at once after a rotation share
	// one fetch instead of each calling the secret store.
	mu    sync.Mutex
	value string
	at    time.Time // when value was fetched; zero: fetch before the next connection
}

// beforeConnect is the pool's BeforeConnect hook: it puts the current password in the copy of
// the connection config that one new connection uses.
func (p *passwords) beforeConnect(ctx context.Context, cfg *pgx.ConnConfig) error {
	pw, err := p.get(ctx)
	if err != nil {
		// Without a password the database cannot be reached: a 503 with Retry-After, not a 500.
		return decagon.Wrap(decagon.EUnavailable, err, unavailable)
	}
	cfg.Password = pw
	return nil
}

func (p *passwords) get(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < p.ttl {
		return p.value, nil
	}
	pw, err := p.fetch(ctx)
	if err != nil {
		return "", err
	}
	p.value, p.at = pw, time.Now()
	return pw, nil
}

// rejected drops the cached password when it is the one the server refused; a connection that
// started before a refetch and failed with the older value leaves the newer one alone.
func (p *passwords) rejected(pw string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pw == p.value {
		p.at = time.Time{}
	}
}

// connectTracer tells passwords when the server rejects the password a connection offered.
// It is the pool's ConnConfig.Tracer: pgx calls it around every connection attempt with the
// config BeforeConnect filled in, and has no other hook that sees a failed connect.
type connectTracer struct{ p *passwords }

// invalidPassword is SQLSTATE 28P01 (invalid_password). A failed connect is a
// pgconn.ConnectError, which classify already makes decagon.EUnavailable.
const invalidPassword = "28P01"

type offeredKey struct{}

func (t connectTracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	return context.WithValue(ctx, offeredKey{}, data.ConnConfig.Password)
}

func (t connectTracer) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	if data.Err == nil || sqlState(data.Err) != invalidPassword {
		return
	}
	if pw, ok := ctx.Value(offeredKey{}).(string); ok {
		t.p.rejected(pw)
	}
}

// TraceQueryStart and TraceQueryEnd do nothing: pgx's Tracer field is a QueryTracer, and only
// the connect half is wanted.
func (connectTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (connectTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
