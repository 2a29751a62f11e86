package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/page"
	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/web"
)

// Limits of the API, as api/openapi.yaml states them.
const (
	MaxNameLength = 200      // characters
	MaxDataBytes  = 64 << 10 // the data object, once compacted
	maxBodyBytes  = MaxDataBytes + 4<<10
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL = 24 * time.Hour
)

// Handler serves the tests API over a Store.
type Handler struct {
	Store Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Routes returns the handlers keyed by ServeMux pattern; each pattern is an operation of
// api/openapi.yaml (a test holds the two to each other).
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /test":             web.Handler(h.create),
		"GET /test":              web.Handler(h.list),
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
	name, data, err := validateNew(in)
	if err != nil {
		return err
	}
	if idem != nil {
		sum := sha256.Sum256(append(append([]byte(name), 0), data...))
		idem.Hash = hex.EncodeToString(sum[:])
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new test id: %w", err)
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	rec := Record{ID: id.String(), Name: name, Data: data, Owner: caller.Subject, CreatedAt: now, UpdatedAt: now}
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

func validateNew(in newTest) (string, json.RawMessage, error) {
	if in.Name == nil {
		return "", nil, problem.New(http.StatusBadRequest, `field "name" is required`)
	}
	name := *in.Name
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxNameLength {
		return "", nil, problem.Newf(http.StatusBadRequest, `field "name" must be 1 to %d characters, got %d`, MaxNameLength, n)
	}
	if !utf8.ValidString(name) {
		return "", nil, problem.New(http.StatusBadRequest, `field "name" must be valid UTF-8`)
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return name, nil, nil
	}
	if data[0] != '{' {
		return "", nil, problem.New(http.StatusBadRequest, `field "data" must be a JSON object`)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return "", nil, problem.New(http.StatusBadRequest, `field "data" is malformed JSON`)
	}
	if compact.Len() > MaxDataBytes {
		return "", nil, problem.Newf(http.StatusRequestEntityTooLarge, `field "data" exceeds %d bytes`, MaxDataBytes)
	}
	return name, compact.Bytes(), nil
}

// idempotencyKey reads the Idempotency-Key header: absent is fine, malformed is a 400.
func idempotencyKey(r *http.Request) (*Idempotency, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return nil, nil
	}
	key := vals[0]
	if len(vals) > 1 || len(key) < 1 || len(key) > 255 {
		return nil, problem.New(http.StatusBadRequest, "Idempotency-Key must be one value of 1 to 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, problem.New(http.StatusBadRequest, "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return &Idempotency{Key: key}, nil
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

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	q, err := page.ParseQuery(r.URL.Query(), caller.Subject, caller.Admin)
	if err != nil {
		return err
	}
	pg := Page{Owner: q.Owner, Limit: q.Limit, After: q.After}
	items, more, err := h.Store.List(r.Context(), pg)
	if err != nil {
		return fmt.Errorf("list tests: %w", err)
	}
	body := page.NewBody(items, more, func(it Record) page.Position {
		return page.Position{CreatedAt: it.CreatedAt, ID: it.ID}
	})
	return web.WriteJSON(w, http.StatusOK, body)
}

// PurgeLoop deletes expired idempotency keys every interval until ctx is done.
func (h *Handler) PurgeLoop(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := h.Store.PurgeIdempotencyKeys(pctx, h.now().Add(-IdempotencyTTL))
		cancel()
		if err != nil {
			logger.Warn("purge idempotency keys", "err", err)
		} else if n > 0 {
			logger.Info("purged idempotency keys", "count", n)
		}
	}
}
