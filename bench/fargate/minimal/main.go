// Command minimal is bench/fargate's reference: the least a Go service can do for the requests
// the harness sends, to measure `decagon serve` against. One pgx pool (PostgreSQL) or one SQLite
// database (a writer connection and a reader pool, WAL, synchronous=FULL, as decagon opens it),
// one indexed statement per request (a transaction of two inserts for an Idempotency-Key), JSON
// out with encoding/json; no token check, no logs, no metrics, no request IDs. The owner is
// fixed by a flag instead of a verified token.
//
// It uses decagon's schema (the harness migrates with `decagon migrate` first) and imports
// nothing from the module, so that it stays a reference and not a copy of the service.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// record is a test as the API returns it.
type record struct {
	ID        string          `json:"test_id"`
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data,omitempty"`
	Owner     string          `json:"owner"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// upload is a stored file's row.
type upload struct {
	ID          string    `json:"upload_id"`
	Owner       string    `json:"owner"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

// store is the one statement per request, on PostgreSQL or SQLite.
type store interface {
	get(ctx context.Context, id, owner string) (record, error)
	list(ctx context.Context, owner string, limit int) ([]record, error)
	insert(ctx context.Context, r record) error
	insertWithKey(ctx context.Context, r record, key, hash string) error
	insertUpload(ctx context.Context, u upload) error
	close()
}

var errNotFound = errors.New("not found")

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	dbURL := flag.String("database-url", "", "postgres://... or sqlite:PATH")
	readOwner := flag.String("read-owner", "", "owner of the records GET reads (the harness's seeded rows)")
	writeOwner := flag.String("write-owner", "minimal", "owner of the rows POST writes (kept apart from decagon's)")
	blobDir := flag.String("blob-dir", "", "directory for uploaded files")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, *readOwner, *writeOwner, *blobDir); err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dbURL, readOwner, writeOwner, blobDir string) error {
	st, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.close()
	if blobDir != "" {
		if err := os.MkdirAll(blobDir, 0o700); err != nil {
			return err
		}
	}
	h := &handler{st: st, readOwner: readOwner, writeOwner: writeOwner, blobDir: blobDir}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /test/{id}", h.get)
	mux.HandleFunc("GET /test", h.list)
	mux.HandleFunc("POST /test", h.create)
	mux.HandleFunc("POST /upload", h.upload)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type handler struct {
	st                    store
	readOwner, writeOwner string
	blobDir               string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, errNotFound) {
		status = http.StatusNotFound
	}
	http.Error(w, err.Error(), status)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	rec, err := h.st.get(r.Context(), r.PathValue("id"), h.readOwner)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		limit = n
	}
	recs, err := h.st.list(r.Context(), h.readOwner, limit)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": recs})
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string          `json:"name"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 68<<10)).Decode(&in); err != nil || in.Name == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	id, err := uuid.NewV7()
	if err != nil {
		fail(w, err)
		return
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := record{ID: id.String(), Name: in.Name, Data: in.Data, Owner: h.writeOwner, CreatedAt: now, UpdatedAt: now}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		sum := sha256.Sum256(append(append([]byte(in.Name), 0), in.Data...))
		err = h.st.insertWithKey(r.Context(), rec, key, hex.EncodeToString(sum[:]))
	} else {
		err = h.st.insert(r.Context(), rec)
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

// upload stores the raw body as decagon's directory store does, durably: one pass (SHA-256 while
// writing), one fsync of the file, rename into place, fsync of the directory; then its row.
func (h *handler) upload(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.NewV7()
	if err != nil {
		fail(w, err)
		return
	}
	u := upload{ID: id.String(), Owner: h.writeOwner, Filename: r.URL.Query().Get("filename"),
		ContentType: r.Header.Get("Content-Type"), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	final := filepath.Join(h.blobDir, u.ID)
	f, err := os.CreateTemp(h.blobDir, u.ID+".*.tmp")
	if err != nil {
		fail(w, err)
		return
	}
	hash := sha256.New()
	bp := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(f, hash), io.LimitReader(r.Body, 10<<20), *bp)
	copyBufs.Put(bp)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err == nil {
		err = syncDir(h.blobDir)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		fail(w, err)
		return
	}
	u.Size, u.SHA256 = n, hex.EncodeToString(hash.Sum(nil))
	if err := h.st.insertUpload(r.Context(), u); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// copyBufs hold the upload's copy buffer: 256 KiB, as decagon's blob store copies, so both
// write the file in the same chunks.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
