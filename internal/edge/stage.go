package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/web"
)

// exchange is the edge's state for one request, pooled.
type exchange struct {
	rec       web.StatusRecorder
	trace     balancer.Trace
	requestID string
	ids       []string // the X-Request-Id field of the forwarded request and the response
	ip        string
	xff       string
	resource  string // the document path, for resourcePath
	path      string // the forwarded path, stage stripped
	rawPath   string
	group     string
	authErr   string
	integErr  string
	integLat  time.Duration
	tooLarge  bool
	start     time.Time
	out       balancer.Outbound // the fast path's request
	lat       recorderLatency
	extra     [4][2]string
	// authResult and throttled are for Config.Observe.
	authResult string
	throttled  bool
	obs        Observation
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// ServeHTTP serves one request: request ID, WAF, mounts or stage, and the access log line.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := e.pool.Get().(*exchange)
	*x = exchange{start: time.Now(), integLat: -1}
	// One slice serves the forwarded request and the response alike.
	ids := r.Header[web.HeaderRequestID]
	if len(ids) != 1 || !web.ValidRequestID(ids[0]) {
		ids = []string{web.NewRequestID()}
		r.Header[web.HeaderRequestID] = ids
	}
	x.requestID, x.ids = ids[0], ids
	w.Header()[web.HeaderRequestID] = ids
	x.xff, x.ip = e.trusted.forwardedFor(r.RemoteAddr, r.Header["X-Forwarded-For"])
	x.rec.ResponseWriter = w
	defer e.finish(x, r) // also when the proxy aborts a response with http.ErrAbortHandler
	if e.waf == nil {
		e.route(x, &x.rec, r) // no middleware in between: no context to carry x
		return
	}
	e.front.ServeHTTP(&x.rec, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
}

// finish writes the access log line, tells the observer, and returns x to the pool.
func (e *Edge) finish(x *exchange, r *http.Request) {
	if e.log != nil || e.observer != nil {
		status := x.rec.Status
		if status == 0 {
			status = http.StatusOK
		}
		if v := recover(); v != nil {
			defer panic(v) // after the line is written
			status = 0     // the response was cut off
			if x.integErr == "" {
				x.integErr = "response aborted"
			}
		}
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		latency := time.Since(x.start)
		if e.log != nil {
			ent := entry{
				requestID: x.requestID, ip: x.ip, start: x.start, method: r.Method,
				resourcePath: x.resource, path: path, protocol: r.Proto, status: status,
				responseLength: x.rec.Bytes, latency: latency, integrationLatency: x.integLat,
				authorizerError: x.authErr, integrationError: x.integErr, target: x.trace.Target,
			}
			e.log.write(&ent)
		}
		if e.observer != nil {
			e.observe(x, r.Method, path, status, latency)
		}
	}
	x.rec.ResponseWriter = nil
	e.pool.Put(x)
}

// serveStage is the handler behind the WAF: it finds the exchange in the context.
func (e *Edge) serveStage(w http.ResponseWriter, r *http.Request) {
	x := exchangeFrom(r.Context())
	if x == nil { // a WAF that replaced the context: the request is served all the same
		ids := r.Header[web.HeaderRequestID]
		x = &exchange{requestID: r.Header.Get(web.HeaderRequestID), ids: ids, integLat: -1}
	}
	e.route(x, w, r)
}

// route sends a request to a mount or an operation and forwards it.
func (e *Edge) route(x *exchange, w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for _, m := range e.mounts {
		if strings.HasPrefix(path, m.prefix) {
			x.resource = m.prefix
			m.h.ServeHTTP(w, r.WithContext(web.WithRequestID(r.Context(), e.logger, x.requestID)))
			return
		}
	}
	routed := path
	if r.URL.RawPath != "" {
		routed = r.URL.RawPath // match the path as sent, so that %2F is not a separator
	}
	if rest, ok := strings.CutPrefix(routed, e.stagePath); ok && strings.HasPrefix(rest, "/") {
		routed = rest
	}
	if !cleanPath(routed) {
		e.refuse(w, x, &gatewayError{typ: NotFound, message: "no such route"})
		return
	}
	entry := e.router.match(routed)
	if entry == nil {
		e.refuse(w, x, &gatewayError{typ: NotFound, message: "no such route"})
		return
	}
	op := entry.methods[r.Method]
	if op == nil {
		e.refuse(w, x, &gatewayError{typ: MethodNotAllowed, message: "method " + r.Method + " is not allowed here",
			header: [][2]string{{"Allow", entry.allow}}})
		return
	}
	x.resource = op.path
	if r.ContentLength > e.maxBody && !op.localOnly {
		e.refuse(w, x, &gatewayError{typ: RequestTooLarge, message: "payload limit exceeded"})
		return
	}
	if !op.localOnly {
		if ok, wait := op.limiter.take(nanotime()); !ok {
			x.throttled = true
			e.refuse(w, x, &gatewayError{typ: Throttled, message: "rate limit exceeded", retryAfter: wait})
			return
		}
	}
	if !op.public {
		if _, err := e.authz.authorize(r.Context(), r.Header.Values("Authorization"), op.req); err != nil {
			e.refuseAuth(w, x, err)
			return
		}
		x.authResult = AuthAllowed
	}
	if gerr := e.validate(x, r, op, entry, routed); gerr != nil {
		e.refuse(w, x, gerr)
		return
	}
	x.group = e.groupFor(routed)
	x.path = routed
	if r.URL.RawPath != "" {
		x.rawPath = routed
		if p, err := url.PathUnescape(routed); err == nil {
			x.path = p
		}
	}
	e.forward(x, w, r, op)
}

// forward is the one call site of both forwarding paths: requests without a body and with an
// idempotent method go over the balancer's pooled Forward, others through the
// httputil.ReverseProxy, which streams bodies both ways. The second path stays because it pays:
// in the same run (BenchmarkForwardPaths, -count 6, benchstat) an authorized GET took 24.7 µs
// and 10 allocations over Forward against 51.2 µs and 67 over the ReverseProxy.
func (e *Edge) forward(x *exchange, w http.ResponseWriter, r *http.Request, op *operation) {
	if !e.plainForward && balancer.ForwardsMethod(r.Method) && !hasBody(r) && r.Header["Upgrade"] == nil {
		// Everything lives in the pooled exchange: no allocation for the forward itself. The
		// client going away does not cancel the exchange (the deadline bounds it), which
		// saves registering with the request context each time.
		x.out = balancer.Outbound{
			Method: r.Method, Path: x.path, RawQuery: r.URL.RawQuery, Header: r.Header,
			Deadline: time.Now().Add(op.timeout),
		}
		if x.rawPath != "" {
			x.out.Path = x.rawPath
		}
		x.out.Extra = e.forwardedHeaders(x.extra[:0], x, r)
		x.lat = recorderLatency{StatusRecorder: &x.rec, x: x}
		err := e.groups[x.group].Forward(&x.lat, &x.out, &x.trace)
		if err != nil {
			e.proxyError(w, x, r, err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), op.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, exchangeKey{}, x)
	e.proxy.ServeHTTP(w, r.WithContext(balancer.WithTrace(ctx, &x.trace)))
}

// recorderLatency notes the integration latency when the target's response starts.
type recorderLatency struct {
	*web.StatusRecorder
	x *exchange
}

func (r *recorderLatency) WriteHeader(code int) {
	if !r.x.trace.Start.IsZero() {
		r.x.integLat = time.Since(r.x.trace.Start)
	}
	if r.x.ids != nil {
		r.Header()[web.HeaderRequestID] = r.x.ids // the edge's ID, not a copy of the target's
	}
	r.StatusRecorder.WriteHeader(code)
}

// refuse writes a gateway response.
func (e *Edge) refuse(w http.ResponseWriter, x *exchange, gerr *gatewayError) {
	if gerr.logReason != "" && x.integErr == "" {
		x.integErr = gerr.logReason
	}
	e.responses.write(w, x.requestID, gerr)
}

// refuseAuth answers an authorizer refusal: 401, 403, or 503 when the keys are unavailable.
func (e *Edge) refuseAuth(w http.ResponseWriter, x *exchange, err error) {
	x.authErr = err.Error()
	switch {
	case errors.Is(err, auth.ErrMissingToken):
		x.authResult = AuthMissingToken
		e.refuse(w, x, &gatewayError{typ: Unauthorized, message: "missing token"})
	case errors.Is(err, auth.ErrInvalidToken):
		x.authResult = AuthInvalidToken
		e.refuse(w, x, &gatewayError{typ: Unauthorized, message: "invalid token",
			header: [][2]string{{"WWW-Authenticate", `Bearer realm="` + auth.Realm + `", error="invalid_token"`}}})
	case errors.Is(err, auth.ErrInsufficientScope):
		x.authResult = AuthInsufficientScope
		e.refuse(w, x, &gatewayError{typ: AccessDenied, message: "insufficient scope"})
	default:
		x.authResult = AuthUnavailable
		e.refuse(w, x, &gatewayError{typ: ServiceUnavailable, message: "authorizer unavailable", retryAfter: 5})
	}
}

// rewrite makes the outbound request: the target group in the URL's host (the balancer picks
// the target), the stage-stripped path, and the X-Forwarded-* headers of a load balancer.
func (e *Edge) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeFrom(pr.In.Context())
	out := pr.Out
	out.URL.Scheme = "http"
	out.URL.Host = x.group
	out.URL.Path = x.path
	out.URL.RawPath = x.rawPath
	out.Host = ""
	var extra [4][2]string
	for _, kv := range e.forwardedHeaders(extra[:0], x, pr.In) {
		out.Header[kv[0]] = []string{kv[1]}
	}
}

// forwardedHeaders appends the X-Forwarded-* fields of a load balancer: For (see
// TrustedProxies.forwardedFor), and Proto, Host and Port as the client sent them to us, or
// as a trusted proxy says it received them.
func (e *Edge) forwardedHeaders(dst [][2]string, x *exchange, in *http.Request) [][2]string {
	proto, host, port := "http", in.Host, "80"
	if in.TLS != nil {
		proto, port = "https", "443"
	}
	if i := strings.LastIndexByte(in.Host, ':'); i >= 0 && !strings.HasSuffix(in.Host, "]") {
		port = in.Host[i+1:]
	}
	if len(e.trusted) > 0 {
		if peer, ok := peerAddr(in.RemoteAddr); ok && e.trusted.Contains(peer) {
			if v := in.Header.Get("X-Forwarded-Proto"); v == "http" || v == "https" {
				proto = v
			}
			if v := in.Header.Get("X-Forwarded-Host"); v != "" {
				host = v
			}
			if v := in.Header.Get("X-Forwarded-Port"); v != "" {
				if _, err := strconv.Atoi(v); err == nil {
					port = v
				}
			}
		}
	}
	if x.xff != "" {
		dst = append(dst, [2]string{"X-Forwarded-For", x.xff})
	}
	return append(dst, [2]string{"X-Forwarded-Proto", proto}, [2]string{"X-Forwarded-Host", host}, [2]string{"X-Forwarded-Port", port})
}

// modifyResponse records the integration latency and drops the target's X-Request-Id: the
// response already carries the edge's, and ReverseProxy adds the target's fields to it rather
// than replacing them, which sent two.
func (e *Edge) modifyResponse(resp *http.Response) error {
	delete(resp.Header, web.HeaderRequestID)
	if x := exchangeFrom(resp.Request.Context()); x != nil && !x.trace.Start.IsZero() {
		x.integLat = time.Since(x.trace.Start)
	}
	return nil
}

// proxyError answers a failed integration: 413 for a body past the limit, 503 without a
// healthy target, 504 past the integration timeout, 502 otherwise.
func (e *Edge) reverseProxyError(w http.ResponseWriter, r *http.Request, err error) {
	e.proxyError(w, exchangeFrom(r.Context()), r, err)
}

func (e *Edge) proxyError(w http.ResponseWriter, x *exchange, r *http.Request, err error) {
	x.integErr = err.Error()
	if !x.trace.Start.IsZero() {
		x.integLat = time.Since(x.trace.Start)
	}
	switch {
	case x.tooLarge:
		e.responses.write(w, x.requestID, &gatewayError{typ: RequestTooLarge, message: "payload limit exceeded"})
	case errors.Is(err, balancer.ErrNoHealthyTarget):
		e.responses.write(w, x.requestID, &gatewayError{typ: ServiceUnavailable, message: "no healthy target"})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		e.responses.write(w, x.requestID, &gatewayError{typ: IntegrationTimeout, message: "the integration timed out"})
	default:
		if r.Context().Err() == context.Canceled {
			x.integErr = "client went away: " + x.integErr
		}
		e.responses.write(w, x.requestID, &gatewayError{typ: IntegrationFailure, message: "the integration failed"})
	}
}
