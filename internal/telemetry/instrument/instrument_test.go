package instrument_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/telemetry/instrument"
)

type observed struct {
	op  string
	err error
}

type recorder struct{ calls []observed }

func (r *recorder) ObserveDB(op string, _ time.Duration, err error) {
	r.calls = append(r.calls, observed{"db " + op, err})
}

func (r *recorder) ObserveBlob(op string, _ time.Duration, err error) {
	r.calls = append(r.calls, observed{"blob " + op, err})
}

type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

// Calls through the wrappers are child spans of the caller's span and are observed with their
// outcome; results pass through unchanged.
func TestStoreAndBucket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exp := tracetest.NewInMemoryExporter()
	shutdown, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "test", Exporter: keepSpans{exp}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := blob.Open(ctx, "file://"+filepath.ToSlash(dir), blob.Options{URLSecret: make([]byte, 32), PublicURL: "http://127.0.0.1/upload/_blob/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	rec := &recorder{}
	ts := instrument.Tests(db.Tests(), "sqlite", rec)
	bucket := instrument.Bucket(b, rec)

	ctx, root := telemetry.Tracer().Start(ctx, "request")
	stored, _, err := ts.Create(ctx, records.Record{ID: uuid.NewString(), Name: "x", Data: []byte(`{}`), Owner: "alice", CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ts.Get(ctx, stored.ID, "alice"); err != nil || got.ID != stored.ID {
		t.Fatalf("get: %v %v", got, err)
	}
	if _, err := ts.Get(ctx, stored.ID, "bob"); !errors.Is(err, decagon.ErrNotFound) {
		t.Fatalf("bob get: %v", err)
	}
	if _, err := bucket.Put(ctx, "k/1", strings.NewReader("hello"), blob.PutOptions{ContentType: "text/plain", MaxSize: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := bucket.Stat(ctx, "k/missing"); !errors.Is(err, decagon.ErrNotFound) {
		t.Fatalf("stat missing: %v", err)
	}
	root.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	want := []string{"db tests.create", "db tests.get", "db tests.get", "blob put", "blob stat"}
	if len(rec.calls) != len(want) {
		t.Fatalf("observed %v", rec.calls)
	}
	for i, w := range want {
		if rec.calls[i].op != w {
			t.Fatalf("call %d: %s, want %s", i, rec.calls[i].op, w)
		}
	}
	if rec.calls[2].err == nil || rec.calls[4].err == nil {
		t.Fatalf("errors not passed to the observer: %v", rec.calls)
	}
	rootSC := root.SpanContext()
	ours := 0
	for _, s := range exp.GetSpans() {
		if !strings.HasPrefix(s.Name, "db ") && !strings.HasPrefix(s.Name, "blob ") {
			continue // the request, and gocloud's own spans below ours
		}
		ours++
		if s.SpanContext.TraceID() != rootSC.TraceID() || s.Parent.SpanID() != rootSC.SpanID() || s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %s: trace %s parent %s, want child of %s", s.Name, s.SpanContext.TraceID(), s.Parent.SpanID(), rootSC.SpanID())
		}
		if s.Status.Code != 0 { // not-found is an answer, not an error
			t.Errorf("span %s has status %v", s.Name, s.Status)
		}
	}
	if ours != len(want) {
		t.Fatalf("%d spans of ours, want %d", ours, len(want))
	}
}

// fixedTests is a records.Store answering Get from memory, so that only the wrapper allocates.
type fixedTests struct{ records.Store }

func (fixedTests) Get(context.Context, string, string) (records.Record, error) {
	return records.Record{ID: "x"}, nil
}

// While no spans are exported a wrapped call does no span work: no allocation at all, and the
// store sees the caller's context itself.
func TestUntracedCallsCostNothing(t *testing.T) {
	shutdown, err := telemetry.Setup(context.Background(), telemetry.Config{ServiceName: "test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	if telemetry.Enabled() {
		t.Fatal("exporting without an endpoint")
	}
	var seen context.Context
	s := instrument.Tests(ctxRecorder{fixedTests{}, &seen}, "sqlite", &recorder{})
	ctx := context.Background()
	if _, err := s.Get(ctx, "x", "o"); err != nil {
		t.Fatal(err)
	}
	if seen != ctx {
		t.Error("the store got another context than the caller's")
	}
	plain := instrument.Tests(fixedTests{}, "sqlite")
	if n := testing.AllocsPerRun(100, func() { _, _ = plain.Get(ctx, "x", "o") }); n != 0 {
		t.Errorf("an untraced Get allocates %v times, want 0", n)
	}
}

// ctxRecorder remembers the context its Get was called with.
type ctxRecorder struct {
	fixedTests
	seen *context.Context
}

func (c ctxRecorder) Get(ctx context.Context, id, owner string) (records.Record, error) {
	*c.seen = ctx
	return c.fixedTests.Get(ctx, id, owner)
}
