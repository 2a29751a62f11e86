package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// NewTransport returns the transport to targets: keep-alive pools sized for a busy local edge
// (targets are few and near, so many idle connections per target are cheap), no proxy from the
// environment, no transparent compression (the client's Accept-Encoding passes through), and
// HTTP/1.1 as an ALB speaks to its targets by default.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   2 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       60 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       16 << 10,
		ReadBufferSize:        16 << 10,
	}
}

// Trace receives what happened to one request in RoundTrip; put one into the request context
// with WithTrace to learn the target and the time spent there.
type Trace struct {
	// Target is the address of the last target tried, "" when none was picked.
	Target string
	// Attempts is the number of targets tried (2 after a retry).
	Attempts int
	// Start is when the request was first sent to a target.
	Start time.Time
}

type traceKey struct{}

// WithTrace returns ctx carrying tr, which RoundTrip fills in.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

// RoundTrip sends req to a healthy target of the group. The caller sets req.URL.Host to the
// group's name; RoundTrip replaces it with the target's address in place (req is the caller's
// own outbound copy, as httputil.ReverseProxy makes one, so nobody else sees the change). The
// target counts as outstanding until the response body is closed.
//
// When the connection to the target cannot be established and the request is idempotent with a
// body that can be sent again, it is retried once on another target.
func (g *Group) RoundTrip(req *http.Request) (*http.Response, error) {
	tr, _ := req.Context().Value(traceKey{}).(*Trace)
	var tried *Target
	for attempt := 1; ; attempt++ {
		t, err := g.Pick(tried)
		if err != nil {
			return nil, err
		}
		req.URL.Host = t.Addr
		if tr != nil {
			tr.Target = t.Addr
			tr.Attempts = attempt
			if attempt == 1 {
				tr.Start = time.Now()
			}
		}
		resp, err := g.transport.RoundTrip(req)
		if err == nil {
			resp.Body = &releaseBody{ReadCloser: resp.Body, g: g, t: t}
			return resp, nil
		}
		g.Release(t)
		if attempt > 1 || !isDialError(err) || !replayable(req) {
			return nil, err
		}
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		g.logger.Debug("retrying on another target", "target", t.ID, "addr", t.Addr, "err", err)
		tried = t
	}
}

// releaseBody releases the target once, when the response body is closed.
type releaseBody struct {
	io.ReadCloser
	g    *Group
	t    *Target
	done atomic.Bool
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	if b.done.CompareAndSwap(false, true) {
		b.g.Release(b.t)
	}
	return err
}

// isDialError reports whether err happened while connecting, before any byte of the request
// could have reached the target.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// replayable reports whether req may be sent a second time: an idempotent method and a body
// that is empty or can be had again.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
	default:
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// Groups routes each request to the group named by its URL host.
type Groups map[string]*Group

// RoundTrip forwards req through the group named req.URL.Host.
func (gs Groups) RoundTrip(req *http.Request) (*http.Response, error) {
	g, ok := gs[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("balancer: no target group %q", req.URL.Host)
	}
	return g.RoundTrip(req)
}
