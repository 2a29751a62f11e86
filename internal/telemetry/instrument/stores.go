package instrument

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/uploads"
)

// dbCall starts a span for a database call: op is "tests.create" and the like.
func dbCall(ctx context.Context, system, op string) call {
	if !telemetry.Enabled() {
		return untraced(ctx) // before the span's name and attributes are built
	}
	return begin(ctx, "db "+op, attribute.String("db.system.name", system), attribute.String("db.operation.name", op))
}

func observeDB(obs []DBObserver, op string, d time.Duration, err error) {
	for _, o := range obs {
		o.ObserveDB(op, d, err)
	}
}

// Tests wraps a records.Store; system is the backend ("postgresql", "sqlite").
func Tests(s records.Store, system string, obs ...DBObserver) records.Store {
	return testsStore{s: s, system: system, obs: obs}
}

type testsStore struct {
	s      records.Store
	system string
	obs    []DBObserver
}

func (t testsStore) Create(ctx context.Context, r records.Record, idem *records.Idempotency) (records.Record, bool, error) {
	c := dbCall(ctx, t.system, "tests.create")
	stored, replayed, err := t.s.Create(c.ctx, r, idem)
	observeDB(t.obs, "tests.create", c.end(err), err)
	return stored, replayed, err
}

func (t testsStore) Get(ctx context.Context, id, owner string) (records.Record, error) {
	c := dbCall(ctx, t.system, "tests.get")
	r, err := t.s.Get(c.ctx, id, owner)
	observeDB(t.obs, "tests.get", c.end(err), err)
	return r, err
}

func (t testsStore) List(ctx context.Context, p listing.Request) ([]records.Record, bool, error) {
	c := dbCall(ctx, t.system, "tests.list")
	items, more, err := t.s.List(c.ctx, p)
	observeDB(t.obs, "tests.list", c.end(err), err)
	return items, more, err
}

func (t testsStore) Delete(ctx context.Context, id, owner string) error {
	c := dbCall(ctx, t.system, "tests.delete")
	err := t.s.Delete(c.ctx, id, owner)
	observeDB(t.obs, "tests.delete", c.end(err), err)
	return err
}

func (t testsStore) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	c := dbCall(ctx, t.system, "tests.purge_idempotency_keys")
	n, err := t.s.PurgeIdempotencyKeys(c.ctx, before)
	observeDB(t.obs, "tests.purge_idempotency_keys", c.end(err), err)
	return n, err
}

// Uploads wraps an uploads.Store.
func Uploads(s uploads.Store, system string, obs ...DBObserver) uploads.Store {
	return uploadsStore{s: s, system: system, obs: obs}
}

type uploadsStore struct {
	s      uploads.Store
	system string
	obs    []DBObserver
}

func (u uploadsStore) Create(ctx context.Context, up uploads.Upload) error {
	c := dbCall(ctx, u.system, "uploads.create")
	err := u.s.Create(c.ctx, up)
	observeDB(u.obs, "uploads.create", c.end(err), err)
	return err
}

func (u uploadsStore) Get(ctx context.Context, id, owner string) (uploads.Upload, error) {
	c := dbCall(ctx, u.system, "uploads.get")
	up, err := u.s.Get(c.ctx, id, owner)
	observeDB(u.obs, "uploads.get", c.end(err), err)
	return up, err
}

func (u uploadsStore) List(ctx context.Context, p listing.Request) ([]uploads.Upload, bool, error) {
	c := dbCall(ctx, u.system, "uploads.list")
	items, more, err := u.s.List(c.ctx, p)
	observeDB(u.obs, "uploads.list", c.end(err), err)
	return items, more, err
}

func (u uploadsStore) Complete(ctx context.Context, id, owner, contentType string, size int64, sha256 string) (uploads.Upload, error) {
	c := dbCall(ctx, u.system, "uploads.complete")
	up, err := u.s.Complete(c.ctx, id, owner, contentType, size, sha256)
	observeDB(u.obs, "uploads.complete", c.end(err), err)
	return up, err
}

func (u uploadsStore) Delete(ctx context.Context, id, owner string) error {
	c := dbCall(ctx, u.system, "uploads.delete")
	err := u.s.Delete(c.ctx, id, owner)
	observeDB(u.obs, "uploads.delete", c.end(err), err)
	return err
}

func (u uploadsStore) ClaimExpired(ctx context.Context, before time.Time, limit int) ([]uploads.Upload, error) {
	c := dbCall(ctx, u.system, "uploads.claim_expired")
	items, err := u.s.ClaimExpired(c.ctx, before, limit)
	observeDB(u.obs, "uploads.claim_expired", c.end(err), err)
	return items, err
}

func (u uploadsStore) Purge(ctx context.Context, id string) error {
	c := dbCall(ctx, u.system, "uploads.purge")
	err := u.s.Purge(c.ctx, id)
	observeDB(u.obs, "uploads.purge", c.end(err), err)
	return err
}
