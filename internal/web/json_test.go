package web

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// WriteJSON writes exactly json.Marshal's bytes and a newline, whatever the previous response
// left in its pooled buffer, and writes nothing for a value JSON cannot hold.
func TestWriteJSON(t *testing.T) {
	type record struct {
		ID   string          `json:"test_id"`
		Data json.RawMessage `json:"data"`
		At   time.Time       `json:"created_at"`
	}
	big := strings.Repeat("x", 100<<10) // past the pooled size
	values := []any{
		record{ID: "a", Data: json.RawMessage(`{ "k" : [1, 2] }`), At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)},
		map[string]string{"html": "<a href='x'>&</a>", "u": "\u2028"},
		big,
		[]int{1},
		nil,
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		if err := WriteJSON(w, http.StatusCreated, v); err != nil {
			t.Fatal(err)
		}
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Errorf("body %.80q, want %.80q", got, string(want)+"\n")
		}
		if w.Code != http.StatusCreated || w.Header().Get("Content-Type") != "application/json" ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("status %d, header %v", w.Code, w.Header())
		}
	}

	w := httptest.NewRecorder()
	if err := WriteJSON(w, http.StatusOK, math.Inf(1)); err == nil {
		t.Fatal("+Inf encoded")
	}
	if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Fatalf("a failed encoding wrote %q, header %v", w.Body, w.Header())
	}
}

// appending encodes itself; fail makes AppendJSON fail after appending.
type appending struct {
	body string
	fail bool
}

func (a appending) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, a.body...)
	if a.fail {
		return dst, errors.New("cannot encode")
	}
	return dst, nil
}

// A value with AppendJSON is written as it appends itself, past the pooled size too, and a
// failure writes nothing.
func TestWriteJSONAppender(t *testing.T) {
	for _, body := range []string{`{"a":1}`, `"` + strings.Repeat("x", 100<<10) + `"`, `{"b":2}`} {
		w := httptest.NewRecorder()
		if err := WriteJSON(w, http.StatusOK, appending{body: body}); err != nil {
			t.Fatal(err)
		}
		if got := w.Body.String(); got != body+"\n" {
			t.Errorf("body %.80q, want %.80q", got, body+"\n")
		}
		if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("header %v", w.Header())
		}
	}
	w := httptest.NewRecorder()
	if err := WriteJSON(w, http.StatusOK, appending{body: "{", fail: true}); err == nil {
		t.Fatal("a failing AppendJSON was written")
	}
	if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Fatalf("a failed encoding wrote %q, header %v", w.Body, w.Header())
	}
}

// BenchmarkWriteJSON is a record's response body.
func BenchmarkWriteJSON(b *testing.B) {
	v := struct {
		ID   string          `json:"test_id"`
		Name string          `json:"name"`
		Data json.RawMessage `json:"data"`
		At   time.Time       `json:"created_at"`
	}{"0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b", "bench", json.RawMessage(`{"colour":"blue","size":42,"tags":["a","b"]}`), time.Now()}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(w, http.StatusOK, v); err != nil {
			b.Fatal(err)
		}
	}
}
