package balancer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Outbound is a request without a body for Forward: what the edge sends to a target.
type Outbound struct {
	// Method is GET, HEAD, OPTIONS or DELETE: idempotent and without a body.
	Method string
	// Path is the escaped path; RawQuery the query without '?'.
	Path, RawQuery string
	// Header is the inbound request's header. Hop-by-hop fields, the fields its Connection
	// field names, and Forwarded / X-Forwarded-* are not sent.
	Header http.Header
	// Extra are fields sent after Header's (the edge's X-Forwarded-*), name and value.
	Extra [][2]string
	// Deadline bounds the whole exchange (the integration timeout).
	Deadline time.Time
	// Ctx cancels the exchange when the client goes away; may be nil.
	Ctx context.Context
}

// Forward sends out to a healthy target over a pooled HTTP/1.1 connection and copies the
// response to w. It is the edge's fast path for requests without a body: one goroutine, no
// request or response cloning, connections reused LIFO. A connection that cannot be
// established is retried once on another target, and so is a safe request (GET, HEAD,
// OPTIONS) whose target died before answering (see diedBeforeAnswering); a pooled connection
// found closed by the target is replaced by a new one to the same target, once.
//
// An error is returned only when nothing was written to w. A target failing in the middle of
// the response body aborts the response with http.ErrAbortHandler, as httputil.ReverseProxy
// does.
func (g *Group) Forward(w http.ResponseWriter, out *Outbound, tr *Trace) error {
	var tried *Target
	var first error // the first attempt's, when a retry finds no other target
	for attempt := 1; ; attempt++ {
		t, err := g.Pick(tried)
		if err != nil {
			if first != nil {
				return first
			}
			return err
		}
		if tr != nil {
			tr.Target, tr.Attempts = t.Addr, attempt
			if attempt == 1 {
				tr.Start = time.Now()
			}
		}
		err = g.exchange(t, w, out)
		g.Release(t)
		if err == nil || attempt > 1 || !(isDialError(err) || diedBeforeAnswering(err, out)) {
			return err
		}
		g.logger.Debug("retrying on another target", "target", t.ID, "addr", t.Addr, "err", err)
		tried, first = t, err
	}
}

// diedBeforeAnswering reports whether err says the target went away (reset, or closed the
// connection) before the first byte of its response, on a safe request: one that cannot have
// changed anything, so a second target may answer it. A task killed while it serves a GET
// (kill -9, an OOM kill, a crash) then costs the client nothing. An ALB answers 502 there; the
// local stack retries because it replaces tasks under the developer's feet (deployments,
// --watch) and a dropped GET would be noise, not a finding. A timeout is not retried (the
// deadline covers the whole exchange), nor is a request whose client went away, nor DELETE: it
// is idempotent, but a second DELETE of what the first one removed answers 404.
func diedBeforeAnswering(err error, out *Outbound) bool {
	switch out.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	if timedOut(err) || out.Ctx != nil && out.Ctx.Err() != nil {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// aLongTimeAgo is a deadline in the past, to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

func (g *Group) exchange(t *Target, w http.ResponseWriter, out *Outbound) error {
	pc := t.pool.get()
	reused := pc != nil
	var resp *http.Response
	for {
		var err error
		if pc == nil {
			if pc, err = dial(t.Addr, out); err != nil {
				return err
			}
		}
		if err = pc.conn.SetDeadline(out.Deadline); err == nil {
			stop := func() bool { return false }
			if out.Ctx != nil && out.Ctx.Done() != nil {
				c := pc.conn
				stop = context.AfterFunc(out.Ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
			}
			writeRequest(pc.bw, out, t.Addr)
			if err = pc.bw.Flush(); err == nil {
				resp, err = readResponse(pc.br, out.Method)
			}
			stop()
		}
		if err == nil {
			break
		}
		pc.close()
		if reused && !timedOut(err) && (out.Ctx == nil || out.Ctx.Err() == nil) {
			pc, reused = nil, false // the target closed the idle connection: once more, fresh
			continue
		}
		if out.Ctx != nil && out.Ctx.Err() != nil {
			return out.Ctx.Err()
		}
		return err
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	buf := copyBufs.Get().(*[]byte)
	werr, rerr := copyBody(w, resp.Body, *buf, resp.ContentLength < 0)
	copyBufs.Put(buf)
	if werr != nil || rerr != nil {
		pc.close() // first, so that closing the body does not drain it
		_ = resp.Body.Close()
		if rerr != nil {
			panic(http.ErrAbortHandler) // the target failed mid-body; the client must see a cut
		}
		return nil // the client went away
	}
	_ = resp.Body.Close()
	for k, vs := range resp.Trailer {
		w.Header()[http.TrailerPrefix+k] = vs
	}
	if resp.Close {
		pc.close()
		return nil
	}
	t.pool.put(pc)
	return nil
}

// timedOut reports a deadline hit: the integration timeout, or the client going away.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyBody copies the response body, flushing after each chunk when the length is unknown (a
// stream). It tells write errors (the client) from read errors (the target).
func copyBody(w http.ResponseWriter, body io.Reader, buf []byte, flush bool) (werr, rerr error) {
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr = w.Write(buf[:n]); werr != nil {
				return werr, nil
			}
			if rc != nil {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readResponse reads the final response, skipping informational (1xx) ones.
func readResponse(br *bufio.Reader, method string) (*http.Response, error) {
	req := methodRequests[method]
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				return nil, errors.New("balancer: target switched protocols on a plain request")
			}
			return resp, nil
		}
	}
}

// methodRequests are the requests http.ReadResponse needs to know a response's method by.
var methodRequests = map[string]*http.Request{}

func init() {
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete} {
		methodRequests[m] = &http.Request{Method: m}
	}
}

// ForwardsMethod reports whether Forward can send a request with this method.
func ForwardsMethod(m string) bool { return methodRequests[m] != nil }

// writeRequest writes the request head; the request has no body.
func writeRequest(bw *bufio.Writer, out *Outbound, host string) {
	bw.WriteString(out.Method)
	bw.WriteByte(' ')
	bw.WriteString(out.Path)
	if out.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(out.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	connection := out.Header["Connection"]
	for k, vs := range out.Header {
		if hopByHop(k) || listed(connection, k) {
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	for _, kv := range out.Extra {
		bw.WriteString(kv[0])
		bw.WriteString(": ")
		bw.WriteString(kv[1])
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
}

// hopByHop reports fields that belong to one connection (RFC 9110 §7.6.1) and the forwarding
// fields the edge sets itself.
func hopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port":
		return true
	}
	return false
}

// listed reports whether a Connection field names k.
func listed(connection []string, k string) bool {
	for _, v := range connection {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), k) {
				return true
			}
		}
	}
	return false
}

// copyHeader copies a response's header to w's, without hop-by-hop fields.
func copyHeader(dst, src http.Header) {
	connection := src["Connection"]
	for k, vs := range src {
		if k != "Content-Length" && hopByHop(k) || listed(connection, k) {
			continue
		}
		dst[k] = vs
	}
}

// pconn is a pooled connection to a target.
type pconn struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	idle time.Time
}

func (pc *pconn) close() { _ = pc.conn.Close() }

var dialer = &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}

func dial(addr string, out *Outbound) (*pconn, error) {
	ctx := out.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithDeadline(ctx, out.Deadline)
	defer cancel()
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &pconn{conn: c, br: bufio.NewReaderSize(c, 8<<10), bw: bufio.NewWriterSize(c, 4<<10)}, nil
}

// pool holds a target's idle connections, most recently used last.
type pool struct {
	mu     sync.Mutex
	idle   []*pconn
	closed bool
}

const (
	maxIdlePerTarget = 512
	// maxIdleTime is below the targets' own idle timeout (120 s), so that the target rarely
	// closes a connection just as it is reused.
	maxIdleTime = 50 * time.Second
)

func (p *pool) get() *pconn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		pc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if time.Since(pc.idle) < maxIdleTime {
			return pc
		}
		pc.close()
	}
	return nil
}

func (p *pool) put(pc *pconn) {
	pc.idle = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdlePerTarget {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.idle = append(p.idle, pc)
	p.mu.Unlock()
}

// closeAll closes the idle connections and refuses later ones.
func (p *pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, pc := range p.idle {
		pc.close()
	}
	p.idle = nil
}
