// Package recordsapi is the HTTP adapter of internal/records: the /test routes of
// api/openapi.yaml, the Idempotency-Key header and the JSON bodies. Its handlers return errors
// (decagon errors or problems); web.WriteError answers them, so no detail here is ever built
// from an error's text.
//
// It may import internal/records, internal/listing, internal/service, internal/web,
// internal/problem and the standard library; never internal/store, internal/edge or
// internal/balancer.
package recordsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/web"
)

// maxBodyBytes bounds a POST /test body: the data limit and room for the name and the syntax.
const maxBodyBytes = records.MaxDataBytes + 4<<10

// Handler serves the records API over a Store.
type Handler struct {
	Store records.Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Routes returns the handlers keyed by ServeMux pattern; each pattern is an operation of
// api/openapi.yaml (a test holds the two to each other).
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /test":             web.Handler(h.create),
		"GET /test":              service.List("tests", h.listRecords, records.Record.Position),
		"GET /test/{test_id}":    web.Handler(h.get),
		"DELETE /test/{test_id}": web.Handler(h.delete),
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// newTest is the POST /test body. Pointers tell a missing field from an empty one.
type newTest struct {
	Name *string         `json:"name"`
	Data json.RawMessage `json:"data"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	idem, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var in newTest
	if err := web.DecodeJSON(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	name, data, err := records.Validate(records.New{Name: in.Name, Data: in.Data})
	if err != nil {
		return err
	}
	if idem != nil {
		idem.Hash = records.RequestHash(name, data)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new test id: %w", err)
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	rec := records.Record{ID: id.String(), Name: name, Data: data, Owner: caller.Subject, CreatedAt: now, UpdatedAt: now}
	stored, replayed, err := h.Store.Create(r.Context(), rec, idem)
	if err != nil {
		return fmt.Errorf("create test: %w", err)
	}
	w.Header().Set("Location", "/test/"+stored.ID)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return web.WriteJSON(w, http.StatusCreated, stored)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	id, err := web.PathUUID(r, "test_id")
	if err != nil {
		return err
	}
	rec, err := h.Store.Get(r.Context(), id, caller.Scope())
	if err != nil {
		return fmt.Errorf("get test %s: %w", id, err)
	}
	return web.WriteJSON(w, http.StatusOK, rec)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	id, err := web.PathUUID(r, "test_id")
	if err != nil {
		return err
	}
	if err := h.Store.Delete(r.Context(), id, caller.Scope()); err != nil {
		return fmt.Errorf("delete test %s: %w", id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PurgeLoop deletes expired idempotency keys every interval until ctx is done.
func (h *Handler) PurgeLoop(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	records.PurgeLoop(ctx, h.Store, interval, h.Now, logger)
}

// listRecords reads h.Store when a request comes, not when the routes are made.
func (h *Handler) listRecords(ctx context.Context, req listing.Request) ([]records.Record, bool, error) {
	return h.Store.List(ctx, req)
}
