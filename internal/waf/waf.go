package waf

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/web"
)

// WAF is the web application firewall. Build it with New and put its Middleware in front of
// the handlers it protects. It is safe for concurrent use.
type WAF struct {
	cfg    Config
	engine coraza.WAF
	logger *slog.Logger

	allow, block *ipSet
	rate         *rateLimiter
	pathExcl     []int // indexes of cfg.Exclusions that have paths
	now          func() time.Time

	ops []operation // api/openapi.yaml's operations and the bodies they declare

	allowed, blocked, counted, rateLimited atomic.Uint64

	// processBody ends the inspection of a request (Coraza's ProcessRequestBody); a field so
	// that the fail-closed test can make the engine fail.
	processBody func(tx types.Transaction) (*types.Interruption, error)

	// observe, when set (by tests), sees every transaction's matched rules before it closes.
	observe func(r *http.Request, matched []types.MatchedRule)

	// inspectTokens hands bearer JWTs to the rules as they are (isBearerJWT), for the test
	// that holds the rules to never matching one.
	inspectTokens bool
}

// Stats are the WAF's counters since New, as AWS WAF's CloudWatch metrics count them.
type Stats struct {
	// Allowed counts requests passed on (counted ones included).
	Allowed uint64
	// Blocked counts requests refused with 403 (rule groups and IP block set).
	Blocked uint64
	// Counted counts requests that a rule would have refused, in count mode.
	Counted uint64
	// RateLimited counts requests refused with 429 by the rate-based rule.
	RateLimited uint64
}

// New builds a WAF from cfg (zero fields take their defaults), compiling the Core Rule Set. It
// logs refused and counted requests to logger (slog.Default() when nil).
func New(cfg Config, logger *slog.Logger) (*WAF, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("waf config: %w", err)
	}
	var err error
	if logger == nil {
		logger = slog.Default()
	}
	w := &WAF{cfg: cfg, logger: logger, now: time.Now, processBody: types.Transaction.ProcessRequestBody}
	if w.allow, err = parseIPSet(cfg.IPSets.Allow); err != nil {
		return nil, fmt.Errorf("waf config: allow%w", err)
	}
	if w.block, err = parseIPSet(cfg.IPSets.Block); err != nil {
		return nil, fmt.Errorf("waf config: block%w", err)
	}
	if !cfg.rateOff {
		w.rate = newRateLimiter(cfg.RateLimit.Limit, cfg.RateLimit.Window, cfg.RateCapacity, time.Now())
	}
	for i, e := range cfg.Exclusions {
		if len(e.Paths) > 0 {
			w.pathExcl = append(w.pathExcl, i)
		}
		logger.Info("waf rule exclusion", "ids", e.IDs, "paths", e.Paths, "reason", e.Reason)
	}
	d, err := directives(cfg)
	if err != nil {
		return nil, err
	}
	w.engine, err = coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(d))
	if err != nil {
		return nil, fmt.Errorf("waf: compile rules: %w", err)
	}
	if !cfg.noOperations {
		if w.ops, err = loadOperations(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Stats returns the counters.
func (w *WAF) Stats() Stats {
	return Stats{
		Allowed:     w.allowed.Load(),
		Blocked:     w.blocked.Load(),
		Counted:     w.counted.Load(),
		RateLimited: w.rateLimited.Load(),
	}
}

// Middleware returns next behind the WAF: requests it refuses get a problem response and
// never reach next.
func (w *WAF) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.serve(rw, r, next)
	})
}

// matchedRule is one rule that matched, with its message as the rule set writes it.
type matchedRule struct {
	ID  string `json:"id"`
	Msg string `json:"msg,omitempty"`
}

// String is "941100 XSS Attack Detected via libinjection".
func (m matchedRule) String() string {
	if m.Msg == "" {
		return m.ID
	}
	return m.ID + " " + m.Msg
}

// verdict is what the WAF decided about one request.
type verdict struct {
	terminatingRule string // the rule that refused (or would have refused) it
	ruleType        string // AWS WAF's terminatingRuleType: REGULAR, RATE_BASED, MANAGED_RULE_GROUP
	status          int    // 403 or 429
	retryAfter      time.Duration
	matched         []matchedRule // the rules that matched, detections first, in order
	score           int           // inbound anomaly score
}

func (w *WAF) serve(rw http.ResponseWriter, r *http.Request, next http.Handler) {
	ip := w.clientIP(r)
	var counted []*verdict // count mode: what would have refused r
	if w.block.contains(ip) {
		v := &verdict{terminatingRule: ruleIPBlock, ruleType: "REGULAR", status: http.StatusForbidden}
		if w.refuse(rw, r, ip, v) {
			return
		}
		counted = append(counted, v)
	} else if w.allow.contains(ip) {
		w.allowed.Add(1)
		next.ServeHTTP(rw, r)
		return
	}
	if w.rate != nil {
		if ok, retry := w.rate.allow(ip, w.now()); !ok {
			v := &verdict{terminatingRule: ruleRateLimit, ruleType: "RATE_BASED", status: http.StatusTooManyRequests, retryAfter: retry}
			if w.refuse(rw, r, ip, v) {
				return
			}
			counted = append(counted, v)
		}
	}
	v, err := w.inspect(r, ip)
	if err != nil {
		// The engine failed on this request: refuse rather than pass it uninspected.
		w.logger.Error("waf inspection failed", "request_id", requestID(r), "err", err)
		v = &verdict{terminatingRule: ruleInspectionError, ruleType: "REGULAR", status: http.StatusForbidden,
			matched: []matchedRule{{ID: ruleInspectionError, Msg: "the request could not be inspected"}}}
	}
	if v != nil {
		if w.refuse(rw, r, ip, v) {
			return
		}
		counted = append(counted, v)
	}
	if len(counted) > 0 {
		w.counted.Add(1)
		w.log(r, ip, "ALLOW", counted)
		if w.cfg.Report != nil {
			w.cfg.Report(r, "COUNT", counted[0].summary())
		}
	}
	w.allowed.Add(1)
	next.ServeHTTP(rw, r)
}

// refuse, in block mode, logs v for r, writes the refusal and reports true; in count mode it
// does nothing and reports false.
func (w *WAF) refuse(rw http.ResponseWriter, r *http.Request, ip netip.Addr, v *verdict) bool {
	if w.cfg.Mode == topology.ModeCount {
		return false
	}
	w.log(r, ip, "BLOCK", []*verdict{v})
	if w.cfg.Report != nil {
		w.cfg.Report(r, "BLOCK", v.summary())
	}
	var p *problem.Problem
	switch v.status {
	case http.StatusTooManyRequests:
		w.rateLimited.Add(1)
		p = &problem.Problem{Type: "about:blank", Title: "Too Many Requests", Status: v.status, Detail: "rate limit exceeded"}
		p.With("Retry-After", strconv.Itoa(int(v.retryAfter/time.Second)))
	default:
		w.blocked.Add(1)
		// The rules that matched, named as the log names them, so that a client whose valid
		// request is refused can say which rule to look at; the request ID finds the log line.
		p = &problem.Problem{Type: "about:blank", Title: "Forbidden", Status: http.StatusForbidden,
			Detail: "refused by the web application firewall: " + v.summary()}
	}
	if web.RequestID(r.Context()) == "" {
		// The edge keeps the request ID in the header, not (yet) in web's context key.
		if id := r.Header.Get(web.HeaderRequestID); web.ValidRequestID(id) {
			r = r.WithContext(web.WithRequestID(r.Context(), w.logger, id))
		}
	}
	web.WriteProblem(rw, r, p)
	return true
}

// clientIP is the key of the IP sets and the rate-based rule.
func (w *WAF) clientIP(r *http.Request) netip.Addr {
	if w.cfg.ClientIP != nil {
		if a, ok := w.cfg.ClientIP(r); ok {
			return normalize(a)
		}
		return netip.IPv6Unspecified()
	}
	if a, ok := remoteIP(r); ok {
		return a
	}
	return netip.IPv6Unspecified()
}
