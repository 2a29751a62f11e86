package edge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/topology"
)

// DefaultMaxBodyBytes is API Gateway's payload limit.
const DefaultMaxBodyBytes = 10 << 20

// Config configures an Edge. Topology is required, and Verifier unless every operation of the
// document is public; the zero value of every other field works.
type Config struct {
	// Topology is decagon.yaml: stage name, throttling, services with path rules and health
	// checks. One target group is made per service.
	Topology *topology.Topology
	// Doc is the OpenAPI document; api.Load() when nil.
	Doc *openapi3.T
	// Verifier checks tokens for the authorizer (an *auth.Verifier).
	Verifier auth.TokenVerifier
	// Targets are addresses (host:port) registered at start, per service name; their IDs are
	// "<service>-1", "<service>-2", ... More can be registered later through Group.
	Targets map[string][]string
	// TrustedProxies are the peers whose X-Forwarded-For, -Proto and -Host are kept.
	TrustedProxies TrustedProxies
	// WAF, when set, wraps everything behind the request ID: mounts and the stage router.
	WAF func(http.Handler) http.Handler
	// Mounts are served ahead of the stage router, by path prefix ("/_idp/"), without the
	// authorizer, throttling, validation or load balancer. They get a request context
	// carrying the request ID (web.RequestID).
	Mounts map[string]http.Handler
	// MaxBodyBytes is the payload limit: DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// IntegrationTimeout, when set, replaces every operation's timeoutInMillis (tests).
	IntegrationTimeout time.Duration
	// AWSHealthChecks uses the health checks' AWS timing instead of their local timing.
	AWSHealthChecks bool
	// DeregistrationDelay bounds how long a deregistered target drains.
	DeregistrationDelay time.Duration
	// TokenCacheSize bounds the verified-token cache: DefaultTokenCacheSize when zero.
	TokenCacheSize int
	// TokenCacheMaxAge bounds how long a verified token is cached besides its exp: 1 h when
	// zero.
	TokenCacheMaxAge time.Duration
	// AccessLog receives one JSON line per request; none when nil.
	AccessLog io.Writer
	// AccessLogFlush is how often batched access log lines are written: 100 ms when zero,
	// every line at once when negative.
	AccessLogFlush time.Duration
	// Observe, when set, is told of every request once its response is done (metrics, the
	// local dashboard). It runs on the request's goroutine, so it must be quick, and must not
	// keep the *Observation.
	Observe func(*Observation)
	// Transport forwards to targets; balancer.NewTransport() when nil.
	Transport http.RoundTripper
	// Logger receives unusual events (refusals are in the access log); slog.Default() when nil.
	Logger *slog.Logger
}

// Edge is the stage, authorizer and load balancer in one http.Handler.
type Edge struct {
	stage      string
	stagePath  string // "/" + stage
	topo       *topology.Topology
	router     *router
	responses  gatewayResponses
	authz      *authorizer
	trusted    TrustedProxies
	maxBody    int64
	groups     balancer.Groups
	groupNames []string
	mounts     []mount
	proxy      *httputil.ReverseProxy
	front      http.Handler
	waf        func(http.Handler) http.Handler
	log        *accessLog
	observer   func(*Observation)
	logger     *slog.Logger
	filterOpts [3]*openapi3filter.Options
	pool       sync.Pool

	// plainForward switches the second forwarding path (the balancer's Forward) off, for the
	// benchmark that weighs it against the ReverseProxy.
	plainForward bool
}

type mount struct {
	prefix string
	h      http.Handler
}

// New builds an Edge from cfg: routes and gateway responses from the document, buckets and
// target groups from the topology. Close stops its health checks and flushes its log.
func New(cfg Config) (*Edge, error) {
	if cfg.Topology == nil {
		return nil, errors.New("edge: no topology")
	}
	doc := cfg.Doc
	if doc == nil {
		var err error
		if doc, err = api.Load(); err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Transport == nil {
		cfg.Transport = balancer.NewTransport()
	}
	e := &Edge{
		stage:     cfg.Topology.Stage.Name,
		stagePath: "/" + cfg.Topology.Stage.Name,
		topo:      cfg.Topology,
		trusted:   cfg.TrustedProxies,
		maxBody:   cfg.MaxBodyBytes,
		groups:    balancer.Groups{},
		logger:    cfg.Logger,
		observer:  cfg.Observe,
		filterOpts: [3]*openapi3filter.Options{
			filterOptions(false), filterOptions(true), filterOptions(true)},
	}
	e.filterOpts[2].ExcludeRequestQueryParams = true
	e.pool.New = func() any { return new(exchange) }

	var err error
	if e.responses, err = parseGatewayResponses(doc.Extensions[gatewayResponsesExt]); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	ops, err := e.operations(cfg, doc)
	if err != nil {
		return nil, err
	}
	if e.router, err = buildRouter(doc, ops); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if cfg.IntegrationTimeout > 0 {
		for _, o := range ops {
			o.timeout = cfg.IntegrationTimeout
		}
	}
	if e.authz = newAuthorizer(cfg.Verifier, cfg.TokenCacheSize, cfg.TokenCacheMaxAge); cfg.Verifier == nil {
		for _, o := range ops {
			if !o.public {
				return nil, fmt.Errorf("edge: %s needs a token but no verifier is configured", o.pattern)
			}
		}
	}
	if err := e.buildGroups(cfg); err != nil {
		return nil, err
	}
	for prefix, h := range cfg.Mounts {
		if !strings.HasPrefix(prefix, "/") {
			e.Close()
			return nil, fmt.Errorf("edge: mount %q does not start with '/'", prefix)
		}
		e.mounts = append(e.mounts, mount{prefix: prefix, h: h})
	}
	sort.Slice(e.mounts, func(i, j int) bool { return len(e.mounts[i].prefix) > len(e.mounts[j].prefix) })
	e.proxy = &httputil.ReverseProxy{
		Rewrite:        e.rewrite,
		Transport:      e.groups,
		ErrorHandler:   e.reverseProxyError,
		ModifyResponse: e.modifyResponse,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	if cfg.AccessLog != nil {
		flush := cfg.AccessLogFlush
		if flush == 0 {
			flush = 100 * time.Millisecond
		}
		e.log = newAccessLog(cfg.AccessLog, flush)
	}
	var front http.Handler = http.HandlerFunc(e.serveStage)
	if cfg.WAF != nil {
		front = cfg.WAF(front)
		e.waf = cfg.WAF
	}
	e.front = front
	return e, nil
}

// operations makes an operation per method of every path of doc, public or not and with the
// scopes that api.OperationsOf reads (the services read the same), each with its throttling
// bucket: its own where decagon.yaml overrides the method, else the stage's.
func (e *Edge) operations(cfg Config, doc *openapi3.T) (map[string]*operation, error) {
	th := cfg.Topology.Stage.Throttling
	stageBucket := newBucket(th.RateLimit, th.BurstLimit)
	list, err := api.OperationsOf(doc)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	ops := map[string]*operation{}
	for _, o := range list {
		op := &operation{method: o.Method, path: o.Path, pattern: o.Pattern(),
			public: o.Public, req: auth.Requirement{Scopes: o.Scopes}, limiter: stageBucket}
		if l, ok := th.Methods[op.pattern]; ok {
			op.limiter = newBucket(l.RateLimit, l.BurstLimit)
		}
		ops[op.pattern] = op
	}
	if len(ops) == 0 {
		return nil, errors.New("edge: the document has no operations")
	}
	for key := range th.Methods {
		if _, ok := ops[key]; !ok {
			cfg.Logger.Warn("throttling override names no operation of the document", "key", key)
		}
	}
	return ops, nil
}

// buildGroups makes one target group per service and registers the configured targets.
func (e *Edge) buildGroups(cfg Config) error {
	for name := range cfg.Targets {
		if _, ok := cfg.Topology.Service(name); !ok {
			return fmt.Errorf("edge: targets given for %q, which is not a service of the topology", name)
		}
	}
	for _, s := range cfg.Topology.Services {
		hc := s.HealthCheck
		if !cfg.AWSHealthChecks {
			hc = hc.ForLocal()
		}
		g, err := balancer.New(balancer.Config{
			Name:                s.Name,
			HealthCheck:         hc,
			Transport:           cfg.Transport,
			DeregistrationDelay: cfg.DeregistrationDelay,
			Logger:              cfg.Logger,
		})
		if err != nil {
			e.Close()
			return fmt.Errorf("edge: %w", err)
		}
		e.groups[s.Name] = g
		e.groupNames = append(e.groupNames, s.Name)
		for i, addr := range cfg.Targets[s.Name] {
			if err := g.Register(fmt.Sprintf("%s-%d", s.Name, i+1), addr); err != nil {
				e.Close()
				return err
			}
		}
	}
	return nil
}

// Group returns the target group of a service.
func (e *Edge) Group(service string) (*balancer.Group, bool) {
	g, ok := e.groups[service]
	return g, ok
}

// GroupNames returns the services' names in topology order.
func (e *Edge) GroupNames() []string { return append([]string(nil), e.groupNames...) }

// Close stops the health checks and flushes the access log.
func (e *Edge) Close() {
	for _, g := range e.groups {
		g.Close()
	}
	if e.log != nil {
		e.log.close()
	}
}

// groupFor is the target group a forwarded path goes to: the first listener rule that
// matches, else the listener's default action, which forwards to the first service.
func (e *Edge) groupFor(path string) string {
	if s, ok := e.topo.Match(path); ok {
		return s.Name
	}
	return e.groupNames[0]
}

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(copyBuffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
