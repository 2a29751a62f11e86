package waf

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/decagon/decagon/internal/topology"
)

// inspect runs r through the rule groups (phases 1 and 2: the request) and returns the verdict
// when a rule refuses it (or would, in count mode), nil when it passes. r.Body is replaced by
// one that replays the inspected prefix and then streams the rest.
func (w *WAF) inspect(r *http.Request, ip netip.Addr) (*verdict, error) {
	tx := w.engine.NewTransaction()
	defer func() {
		_ = tx.Close() // only fails removing upload temp files, which this configuration never writes
	}()
	state, ok := tx.(plugintypes.TransactionState)
	if !ok {
		return nil, errors.New("coraza transaction does not expose its variables")
	}
	vars := state.Variables()
	for _, i := range w.pathExcl {
		for _, p := range w.cfg.Exclusions[i].Paths {
			if topology.MatchPattern(p, r.URL.Path) {
				vars.TX().Set(exclusionVar+strconv.Itoa(i), []string{"1"})
				break
			}
		}
	}
	sc := scopeGeneric
	if w.ops != nil && hasBody(r) {
		sc = findOperation(w.ops, r.Method, r.URL.Path).scopeOf(r.Header.Get("Content-Type"))
	}
	limit, oversize := w.cfg.genericLimit(), topology.OversizeContinue
	switch sc {
	case scopeJSON:
		limit, oversize = w.cfg.Body.JSON.InspectLimit, w.cfg.Body.JSON.Oversize
		vars.TX().Set(jsonVar, []string{"1"})
	case scopeMultipart:
		limit, oversize = w.cfg.Body.Upload.InspectLimit, w.cfg.Body.Upload.Oversize
	case scopeForm, scopeText:
		// As strict as a JSON body: the stage refuses the type, so nothing larger is valid.
		limit, oversize = w.cfg.Body.JSON.InspectLimit, w.cfg.Body.JSON.Oversize
		v := formVar
		if sc == scopeText {
			v = textVar
		}
		vars.TX().Set(v, []string{"1"})
	case scopeFile:
		vars.TX().Set(skipBodyVar, []string{"1"})
	}

	client, port := splitHostPort(r.RemoteAddr)
	if w.cfg.ClientIP != nil {
		client = ip.String()
	}
	tx.ProcessConnection(client, port, "", 0)
	// RequestURI is the target exactly as the client sent it: r.URL.String() would re-encode it
	// and, for a path starting with "//", turn it into a host (CVE-2025-29914).
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	tx.ProcessURI(uri, r.Method, r.Proto)
	for k, vs := range r.Header {
		k = lowerName(k)
		for _, v := range vs {
			if k == "authorization" && !w.inspectTokens && isBearerJWT(v) {
				v = bearerPlaceholder
			}
			tx.AddRequestHeader(k, v)
		}
	}
	if r.Host != "" || r.ProtoAtLeast(1, 1) {
		// net/http moves Host out of the header map. HTTP/1.1 requires it, so an empty r.Host
		// there is an empty Host header (CRS 920290), not a missing one (920280).
		tx.AddRequestHeader("host", r.Host)
		tx.SetServerName(r.Host)
	}
	for _, te := range r.TransferEncoding {
		// and Transfer-Encoding too; request smuggling rules (920171, 921...) need it.
		tx.AddRequestHeader("transfer-encoding", te)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return w.verdictOf(r, tx, vars, it), nil
	}
	if hasBody(r) && tx.IsRequestBodyAccessible() {
		if oversize == topology.OversizeMatch && r.ContentLength > int64(limit) {
			// Refused unread: no need to read what will not be inspected.
			return w.oversized(sc, limit), nil
		}
		prefix, truncated, err := readPrefix(r, limit)
		if err != nil {
			return nil, err
		}
		if truncated {
			vars.TX().Set(truncatedVar, []string{"1"})
			switch oversize {
			case topology.OversizeMatch:
				return w.oversized(sc, limit), nil
			case topology.OversizeNoMatch:
				prefix = nil // the body rules do not match a body they cannot read whole
			}
		}
		if len(prefix) > 0 {
			if it, _, err := tx.WriteRequestBody(prefix); err != nil {
				return nil, fmt.Errorf("inspect body: %w", err)
			} else if it != nil {
				return w.verdictOf(r, tx, vars, it), nil
			}
		}
	}
	it, err := w.processBody(tx)
	if err != nil {
		return nil, fmt.Errorf("inspect body: %w", err)
	}
	return w.verdictOf(r, tx, vars, it), nil
}

// bearerPlaceholder stands in, for the rules, for an Authorization header that is a bearer
// JWT (isBearerJWT).
const bearerPlaceholder = "Bearer header.payload.signature"

// isBearerJWT reports whether v is "Bearer " and a compact JWS: three base64url segments
// joined by dots (the signature may be empty). Such a value is handed to the rules as
// bearerPlaceholder, which has the same shape, instead of as it is. A Cognito access token is
// about a kilobyte, and every rule that reads all headers (protocol, traversal, shellshock...)
// transforms and matches it: a tenth to a fifth of a clean request's CPU for nothing, since no
// rule can match a value made of letters, digits, "-", "_" and "." alone (no CRS or decagon
// rule base64-decodes a header; TestBearerJWTNeverMatches holds every rule to that). What the
// token says is for the authorizer, which runs next and refuses it unless Cognito signed it.
// Any other Authorization value (another scheme, stray characters) is inspected as it is.
func isBearerJWT(v string) bool {
	if len(v) < len("Bearer ") || !strings.EqualFold(v[:len("Bearer ")], "Bearer ") {
		return false
	}
	dots := 0
	segment := 0 // length of the current segment
	for i := len("Bearer "); i < len(v); i++ {
		switch c := v[i]; {
		case c == '.':
			if segment == 0 || dots == 2 {
				return false
			}
			dots++
			segment = 0
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			segment++
		default:
			return false
		}
	}
	return dots == 2
}

// lowerName returns a header name in lower case, as HTTP/2 sends it. Coraza lower-cases the
// name of every header for every rule that reads the headers (its exclusion check), which
// allocates for net/http's canonical names ("User-Agent") and costs a copy per header per rule:
// handed lower case names, strings.ToLower returns them as they are. The names of common
// headers come from a table, so that the copy is not made per request either.
func lowerName(k string) string {
	if l, ok := lowerNames[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

var lowerNames = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Connection", "Content-Length", "Content-Type", "Cookie", "Expect", "Idempotency-Key",
		"If-Match", "If-None-Match", "Origin", "Pragma", "Priority", "Referer", "Sec-Ch-Ua",
		"Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
		"Sec-Fetch-Site", "Sec-Fetch-User", "Te", "Traceparent", "Tracestate", "Upgrade",
		"Upgrade-Insecure-Requests", "User-Agent", "X-Amz-Content-Sha256", "X-Amz-Date",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Request-Id",
	} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

// oversized is the verdict on a body longer than its scope inspects, under oversize handling
// MATCH.
func (w *WAF) oversized(sc scope, limit int) *verdict {
	msg := fmt.Sprintf("Request body larger than the %d bytes inspected for %s bodies (oversize handling MATCH)", limit, sc)
	return &verdict{
		terminatingRule: ruleOversize, ruleType: "REGULAR", status: http.StatusForbidden,
		matched: []matchedRule{{ID: ruleOversize, Msg: msg}},
	}
}

// hasBody reports whether r may carry a body: a positive or unknown (chunked, HTTP/2) length.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// readPrefix reads up to limit bytes of r's body for inspection and replaces r.Body with one
// that replays them and streams the rest. Only the prefix is ever held in memory. truncated
// reports that the body goes on past the limit. A read error is returned: the WAF then
// refuses the request (it cannot tell what the body holds), and the backend is not called.
func readPrefix(r *http.Request, limit int) (prefix []byte, truncated bool, err error) {
	size := limit + 1 // one more byte tells a body of exactly limit bytes from a longer one
	if r.ContentLength > 0 && r.ContentLength <= int64(limit) {
		size = int(r.ContentLength)
	}
	buf := make([]byte, size)
	n, rerr := io.ReadFull(r.Body, buf)
	if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
		rerr = nil // shorter than the limit: the whole body
	}
	buf = buf[:n]
	if rerr != nil {
		return nil, false, fmt.Errorf("read body: %w", rerr)
	}
	r.Body = &replayBody{head: buf, rest: r.Body}
	truncated = n > limit || r.ContentLength > int64(limit)
	return buf[:min(n, limit)], truncated, nil
}

// replayBody is a request body whose first bytes were already read: it returns them, then
// the rest of the original body.
type replayBody struct {
	head []byte
	rest io.ReadCloser
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error { return b.rest.Close() }

// verdictOf turns the transaction's outcome into a verdict: nil when nothing refuses the
// request, in block mode (an interruption) as in count mode (what would have interrupted).
func (w *WAF) verdictOf(r *http.Request, tx types.Transaction, vars plugintypes.TransactionVariables, it *types.Interruption) *verdict {
	if w.observe != nil {
		w.observe(r, tx.MatchedRules())
	}
	if it == nil {
		if d, ok := tx.(interface{ DetectionOnlyInterruption() *types.Interruption }); ok {
			it = d.DetectionOnlyInterruption()
		}
	}
	if it == nil {
		return nil
	}
	v := &verdict{terminatingRule: strconv.Itoa(it.RuleID), ruleType: "MANAGED_RULE_GROUP", status: http.StatusForbidden}
	for _, m := range tx.MatchedRules() {
		rule := m.Rule()
		if rule.Severity() == types.RuleSeverityUnset && rule.ID() != it.RuleID {
			continue // setup and bookkeeping rules, not detections
		}
		id := strconv.Itoa(rule.ID())
		if !slices.ContainsFunc(v.matched, func(x matchedRule) bool { return x.ID == id }) {
			v.matched = append(v.matched, matchedRule{ID: id, Msg: m.Message()})
		}
	}
	if s := vars.TX().Get("blocking_inbound_anomaly_score"); len(s) > 0 {
		v.score, _ = strconv.Atoi(s[0])
	}
	return v
}

// splitHostPort splits "host:port" and "[v6]:port" without allocating; a bare host has port 0.
func splitHostPort(s string) (host string, port int) {
	i := len(s) - 1
	for i >= 0 && s[i] >= '0' && s[i] <= '9' {
		i--
	}
	if i < 0 || s[i] != ':' || i == len(s)-1 {
		return s, 0
	}
	host, p := s[:i], s[i+1:]
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	} else if containsColon(host) {
		return s, 0 // a bare IPv6 address: its last group only looked like a port
	}
	port, _ = strconv.Atoi(p)
	return host, port
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}
