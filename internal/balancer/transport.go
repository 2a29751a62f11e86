package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// NewTransport returns the transport to targets: keep-alive pools sized for a busy local edge
// (targets are few and near, so many idle connections per target are cheap), no proxy from the
// environment, no transparent compression (the client's Accept-Encoding passes through), and
// HTTP/1.1 as an ALB speaks to its targets by default.
func NewTransport() *http.Transport {
	return newTransport((&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
}

// newTransport is NewTransport with its own dial function, whose connections are counted (see
// countingConn).
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c}, nil
		},
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
// A request that never reached its target — the connection could not be established, or it
// broke before one byte of the request was written to it — is sent once more to another
// target, whatever its method: the target cannot have acted on it. (A stopped replica refuses
// connections until its health checks take it out; without this, a POST in that window
// failed with 502.) Its body goes again from GetBody, or, for a body that cannot be had again
// (a streamed upload), as it is when the first attempt never got a connection and so never
// read it. What was sent, even in part, is never sent again.
func (g *Group) RoundTrip(req *http.Request) (*http.Response, error) {
	tr, _ := req.Context().Value(traceKey{}).(*Trace)
	var held *heldBody
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		// A body that cannot be had again (a streamed upload) is held open across an attempt
		// that never got a connection, so that attempt's failure does not cost the body.
		held = &heldBody{ReadCloser: req.Body}
		req.Body = held // req is the caller's outbound copy, as for URL.Host
	}
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
		var sent sendTrace
		resp, err := g.transport.RoundTrip(sent.watch(req))
		if err == nil {
			if held != nil {
				held.release()
			}
			resp.Body = &releaseBody{ReadCloser: resp.Body, g: g, t: t}
			return resp, nil
		}
		g.Release(t)
		retry := attempt == 1 && (isDialError(err) || sent.nothingWritten())
		if held != nil {
			// Without a connection the transport never read the body: it can go as it is.
			retry = retry && !sent.got && !held.read.Load()
		} else {
			retry = retry && rewindable(req)
		}
		if !retry {
			if held != nil {
				held.release()
			}
			return nil, err
		}
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		g.logger.Debug("retrying on another target: the request never reached the first", "target", t.ID, "addr", t.Addr, "err", err)
		tried = t
	}
}

// heldBody is a request body that the transport's Close leaves open until released, and that
// notes whether it was read at all.
type heldBody struct {
	io.ReadCloser
	read     atomic.Bool
	released atomic.Bool
	closed   atomic.Bool // Close was called while held
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.ReadCloser.Read(p)
}

// Close closes the body once released; before, it only notes the call.
func (b *heldBody) Close() error {
	if b.released.Load() {
		return b.ReadCloser.Close()
	}
	b.closed.Store(true)
	return nil
}

// release lets Close through, and passes on a Close that came while the body was held.
func (b *heldBody) release() {
	b.released.Store(true)
	if b.closed.Load() {
		_ = b.ReadCloser.Close()
	}
}

// countingConn counts the bytes written to a connection to a target, so that RoundTrip can
// tell a request that never left from one the target may have read.
type countingConn struct {
	net.Conn
	written atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// sendTrace notes the connection a request got and how much had been written to it then.
type sendTrace struct {
	conn  *countingConn
	start int64
	got   bool // a connection was handed out, ours or not
}

// watch returns req with a client trace that fills s.
func (s *sendTrace) watch(req *http.Request) *http.Request {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		s.got = true
		if c, ok := info.Conn.(*countingConn); ok {
			s.conn, s.start = c, c.written.Load()
		}
	}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
}

// nothingWritten reports whether the request surely never reached the target: no connection
// was handed out, or not one byte was written to the one that was. A connection of another
// transport than NewTransport's cannot be told: it counts as written to.
func (s *sendTrace) nothingWritten() bool {
	if !s.got {
		return true
	}
	return s.conn != nil && s.conn.written.Load() == s.start
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

// rewindable reports whether req's body can be sent a second time: none, or one GetBody
// returns again.
func rewindable(req *http.Request) bool {
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
