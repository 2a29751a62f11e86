package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/store/postgres/pgtest"
)

// stack is a `decagon dev` running in this test process.
type stack struct {
	t       *testing.T
	url     string
	banner  string // the token the banner prints
	dataDir string
	cancel  context.CancelFunc
	done    chan error
	stderr  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlLine = regexp.MustCompile(`running at (http://[0-9.:]+)`)

// startDev runs `decagon dev` with extra flags on a free port and waits for its banner.
func startDev(t *testing.T, dataDir string, extra ...string) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &stack{t: t, dataDir: dataDir, cancel: cancel, done: make(chan error, 1), stderr: &syncBuffer{}}
	args := append([]string{"dev", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, extra...)
	go func() {
		err := run(ctx, args, pw, s.stderr)
		pw.CloseWithError(fmt.Errorf("dev exited: %v", err))
		s.done <- err
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
			s.url = m[1]
		}
		if tok, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export TOKEN="); ok {
			s.banner = tok
			break
		}
	}
	if s.url == "" || s.banner == "" {
		cancel()
		t.Fatalf("dev did not start: %v\n%s", sc.Err(), s.stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(s.stop)
	return s
}

func (s *stack) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("dev stopped with %v\n%s", err, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Error("dev did not stop within 30 s")
	}
}

// token mints a token with `decagon token` against the stack's data dir.
func (s *stack) token(args ...string) string {
	s.t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"token", "--data-dir", s.dataDir}, args...), &out, &errOut); err != nil {
		s.t.Fatalf("token %v: %v %s", args, err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// response is what the tests look at.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// do sends one request; headers alternate name, value. It fails the test on a transport
// error, so only the test's goroutine may call it; workers call try.
func (s *stack) do(method, path, token, body string, headers ...string) response {
	s.t.Helper()
	r, err := s.try(method, path, token, body, headers...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// try is do returning its error rather than failing the test: safe from any goroutine.
func (s *stack) try(method, path, token, body string, headers ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// postgresURL returns a URL to a fresh schema of the local PostgreSQL, dropped after the test.
// Without PostgreSQL the test skips, unless CI is set.
func postgresURL(t *testing.T) string { return pgtest.URL(t) }
