package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// request is what the suite sends. Path is relative to the stage ("/test") unless it is an
// absolute URL (a presigned or download URL).
type request struct {
	method, path, token string
	body                []byte
	contentType         string
	header              map[string]string
}

// response is what the suite looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds what the suite reads of a response: its checks need small bodies only.
const maxBody = 1 << 20

// do sends r to the stage (or to r.path when it is an absolute URL), again after a short
// Retry-After when the stage throttles it.
func (s *suite) do(ctx context.Context, r request) (*response, error) {
	target := r.path
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = s.base + r.path
	}
	for attempt := 1; ; attempt++ {
		res, err := s.send(ctx, r, target)
		if err != nil || res.status != http.StatusTooManyRequests || attempt == maxAttempts {
			return res, err
		}
		// The stage's throttling (a burst of the suite's own requests) says when to come back;
		// a longer wait (the WAF's rate-based rule) is reported as the 429 it is.
		wait, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || wait < 0 || wait > maxRetryAfter {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(wait)*time.Second + 100*time.Millisecond):
		}
	}
}

// maxAttempts and maxRetryAfter bound the retries of a throttled request.
const (
	maxAttempts   = 3
	maxRetryAfter = 2 // seconds
)

// send sends r once.
func (s *suite) send(ctx context.Context, r request, target string) (*response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		if s.cfg.NoBearer {
			req.Header.Set("Authorization", r.token)
		} else {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", r.method, r.path, err)
	}
	res := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.StatusCode < 400 {
		s.cover(r.method, target)
	}
	if r.method == "POST" && resp.StatusCode == 201 && r.token != "" {
		s.deleteLater(r.token, b)
	}
	return res, nil
}

// deleteLater schedules the deletion of what a 201 created, whichever check sent it and
// whether or not the stage should have created it: the suite leaves nothing behind.
func (s *suite) deleteLater(token string, body []byte) {
	var created struct {
		TestID   string `json:"test_id"`
		UploadID string `json:"upload_id"`
	}
	if json.Unmarshal(body, &created) != nil {
		return
	}
	var path string
	switch {
	case created.TestID != "":
		path = "/test/" + url.PathEscape(created.TestID)
	case created.UploadID != "":
		path = "/upload/" + url.PathEscape(created.UploadID)
	default:
		return
	}
	s.onCleanup(func(ctx context.Context) {
		_, _ = s.do(ctx, request{method: "DELETE", path: path, token: token})
	})
}

// doJSON sends v as a JSON body.
func (s *suite) doJSON(ctx context.Context, method, path, token string, v any, header map[string]string) (*response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, request{method: method, path: path, token: token, body: b, contentType: "application/json", header: header})
}

// String is the response for a failure message: status, content type and the start of the body.
func (r *response) String() string {
	body := string(r.body)
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), strings.TrimSpace(body))
}

func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// wantStatus checks the status alone.
func wantStatus(r *response, status int) error {
	if r.status != status {
		return failf(fmt.Sprint(status), "%s", r)
	}
	return nil
}

// wantJSON checks the status and an application/json body, decoded into v when v is not nil.
func wantJSON(r *response, status int, v any) error {
	if err := wantStatus(r, status); err != nil {
		return err
	}
	if mt := mediaType(r.header); mt != "application/json" {
		return failf("Content-Type application/json", "%q", r.header.Get("Content-Type"))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return failf("a JSON body", "%v in %s", err, r)
	}
	return nil
}

// problemDoc is an RFC 9457 problem with decagon's request_id member.
type problemDoc struct {
	Type      *string `json:"type"`
	Title     *string `json:"title"`
	Status    *int    `json:"status"`
	Detail    string  `json:"detail"`
	RequestID string  `json:"request_id"`
}

// wantProblem checks that r is an application/problem+json document with the given status (one
// of statuses, when several are allowed) and type, title, status and request_id.
func wantProblem(r *response, statuses ...int) error {
	ok := false
	for _, st := range statuses {
		ok = ok || r.status == st
	}
	if !ok {
		want := make([]string, len(statuses))
		for i, st := range statuses {
			want[i] = fmt.Sprint(st)
		}
		return failf(strings.Join(want, " or ")+" problem", "%s", r)
	}
	if mt := mediaType(r.header); mt != "application/problem+json" {
		return failf("Content-Type application/problem+json", "%q (%s)", r.header.Get("Content-Type"), r)
	}
	var p problemDoc
	if err := json.Unmarshal(r.body, &p); err != nil {
		return failf("a problem document", "%v in %s", err, r)
	}
	switch {
	case p.Type == nil || *p.Type == "":
		return failf("a problem with a type", "%s", r)
	case p.Title == nil || *p.Title == "":
		return failf("a problem with a title", "%s", r)
	case p.Status == nil || *p.Status != r.status:
		return failf(fmt.Sprintf("a problem with status %d", r.status), "%s", r)
	case p.RequestID == "":
		return failf("a problem with a request_id", "%s", r)
	}
	return nil
}
