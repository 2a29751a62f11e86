package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// keysOf returns the keys of a JSON object line in their order.
func keysOf(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("line %q: not an object", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The access log line and a handler's own line carry the request ID right after the base
// logger's attributes, at the level the response calls for; health checks made Quiet log at
// debug only.
func TestAccessLogLine(t *testing.T) {
	accessKeys := []string{"time", "level", "msg", "service", "request_id", "method", "path", "status", "bytes", "duration_ms", "remote"}
	tests := []struct {
		name      string
		level     slog.Level
		status    int
		quiet     bool
		wantLevel string // "" when no access line is wanted
	}{
		{"ok", slog.LevelInfo, http.StatusCreated, false, "INFO"},
		{"server error", slog.LevelInfo, http.StatusInternalServerError, false, "ERROR"},
		{"client error", slog.LevelInfo, http.StatusNotFound, false, "INFO"},
		{"quiet at info", slog.LevelInfo, http.StatusOK, true, ""},
		{"quiet at debug", slog.LevelDebug, http.StatusOK, true, "DEBUG"},
		{"warn level drops info", slog.LevelWarn, http.StatusOK, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			base := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: tc.level})).With("service", "tests")
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Logger(r.Context()).Warn("inside")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, "hello")
			})
			if tc.quiet {
				h = Quiet(h)
			}
			h = RequestIDs(base, AccessLog(h))
			r := httptest.NewRequest(http.MethodPost, "/test?x=1", nil)
			r.Header.Set(HeaderRequestID, "abc-123")
			h.ServeHTTP(httptest.NewRecorder(), r)

			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if got, want := keysOf(t, lines[0]), []string{"time", "level", "msg", "service", "request_id"}; !slices.Equal(got, want) {
				t.Errorf("handler line keys %v, want %v", got, want)
			}
			if tc.wantLevel == "" {
				if len(lines) != 1 {
					t.Fatalf("access line written: %q", lines[1:])
				}
				return
			}
			if len(lines) != 2 {
				t.Fatalf("got %d lines, want 2: %q", len(lines), out.String())
			}
			if got := keysOf(t, lines[1]); !slices.Equal(got, accessKeys) {
				t.Errorf("access line keys %v, want %v", got, accessKeys)
			}
			var line struct {
				Level, Msg, Service, Method, Path string
				RequestID                         string `json:"request_id"`
				Status                            int
				Bytes                             int64
			}
			if err := json.Unmarshal([]byte(lines[1]), &line); err != nil {
				t.Fatal(err)
			}
			want := line
			want.Level, want.Msg, want.Service, want.Method, want.Path = tc.wantLevel, "request", "tests", "POST", "/test"
			want.RequestID, want.Status, want.Bytes = "abc-123", tc.status, 5
			if line != want {
				t.Errorf("access line %+v, want %+v", line, want)
			}
		})
	}
}

// Without RequestIDs the line has no request_id and goes to the default logger.
func TestAccessLogWithoutRequestID(t *testing.T) {
	var out bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&out, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	AccessLog(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	want := []string{"time", "level", "msg", "method", "path", "status", "bytes", "duration_ms", "remote"}
	if got := keysOf(t, strings.TrimSpace(out.String())); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
}

// BenchmarkAccessLog is the per-request cost of the request ID, the access log line and the
// status recorder around a handler that writes a small body, logging to io.Discard.
func BenchmarkAccessLog(b *testing.B) {
	base := slog.New(slog.NewJSONHandler(io.Discard, nil)).With("service", "tests")
	h := RequestIDs(base, AccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})))
	r := httptest.NewRequest(http.MethodGet, "/test/0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b", nil)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		clear(r.Header)
		h.ServeHTTP(w, r)
	}
}

type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
