package verify

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"github.com/decagon/decagon/api"
)

// route is one operation of api/openapi.yaml, as the suite needs it.
type route struct {
	method, path string // "GET", "/test/{test_id}"
	public       bool   // security: []
	// localOnly marks x-decagon-local-only operations (the directory store's signed URLs): a
	// deployed stage leaves them out and signs S3 URLs instead.
	localOnly bool
}

func (r route) pattern() string { return r.method + " " + r.path }

// localOnlyExt is the extension that marks an operation as served by the local stack only.
const localOnlyExt = "x-decagon-local-only"

// loadRoutes reads every operation of the embedded document: the suite checks the routes the
// document has, not a list of its own that could drift from it.
func loadRoutes() ([]route, error) {
	doc, err := api.Load()
	if err != nil {
		return nil, err
	}
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	routes := make([]route, 0, len(ops))
	for _, o := range ops {
		r := route{method: o.Method, path: o.Path, public: o.Public}
		if item := doc.Paths.Find(o.Path); item != nil {
			if op := item.GetOperation(o.Method); op != nil {
				r.localOnly, _ = op.Extensions[localOnlyExt].(bool)
			}
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// match reports whether a request path matches a document path: each {param} matches exactly
// one non-empty segment.
func match(template, path string) bool {
	ts := strings.Split(strings.Trim(template, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if t != ps[i] {
			return false
		}
	}
	return true
}

// cover records that target (a full URL) answered without an error.
// URLs outside the stage (S3's presigned URLs) cover nothing.
func (s *suite) cover(method, target string) {
	u, err := url.Parse(target)
	if err != nil {
		return
	}
	base, err := url.Parse(s.base)
	if err != nil || u.Host != base.Host {
		return
	}
	// The stage's own paths sit under its base path (/Test); the local stack's signed URLs
	// are served at the root of the same host.
	path, ok := strings.CutPrefix(u.Path, base.Path)
	if !ok || base.Path == "" {
		path = u.Path
	}
	for _, r := range s.routes {
		if r.method == method && match(r.path, path) {
			s.covered[r.pattern()] = true
			return
		}
	}
}

// placeholder fills a document path's parameters with values of the right shape that name no
// record, so a request reaches the route (and its authorizer) without touching data.
func placeholder(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		switch seg {
		case "{owner}":
			segs[i] = strings.Repeat("0", 32)
		default:
			if strings.HasPrefix(seg, "{") {
				segs[i] = "00000000-0000-4000-8000-000000000000"
			}
		}
	}
	return strings.Join(segs, "/")
}

// authOnEveryRoute checks the authorizer on every operation that needs a token: none → 401 with
// WWW-Authenticate, a forged one → 401. Both must be problem documents.
func (s *suite) authOnEveryRoute(ctx context.Context) {
	for _, r := range s.routes {
		if r.public {
			continue
		}
		path := placeholder(r.path)
		s.check("auth: "+r.pattern()+" without a token is 401", func() error {
			res, err := s.do(ctx, request{method: r.method, path: path})
			if err != nil {
				return err
			}
			if err := wantProblem(res, 401); err != nil {
				return err
			}
			if h := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
				return failf("WWW-Authenticate: Bearer …", "%q", h)
			}
			return nil
		})
		s.check("auth: "+r.pattern()+" with a forged token is 401", func() error {
			res, err := s.do(ctx, request{method: r.method, path: path, token: forgedToken})
			if err != nil {
				return err
			}
			return wantProblem(res, 401)
		})
	}
}

// forgedToken is shaped like a JWT (header.payload.signature) but signed by no one.
const forgedToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6InZlcmlmeSJ9.eyJzdWIiOiJ2ZXJpZnkiLCJ0b2tlbl91c2UiOiJpZCJ9.c2lnbmF0dXJl"

// coverage checks that the suite reached every operation of the document with a valid token,
// so that a route added to the document without a check here is noticed.
func (s *suite) coverage() {
	var missing []string
	for _, r := range s.routes {
		switch {
		case s.covered[r.pattern()]:
		case s.noUploads != "" && strings.HasPrefix(r.path, "/upload"):
			s.skip("routes: "+r.pattern(), s.noUploads)
		case r.localOnly:
			s.skip("routes: "+r.pattern(), "not reached: this stage signs its upload URLs for another host (S3 when deployed; x-decagon-local-only)")
		default:
			missing = append(missing, r.pattern())
		}
	}
	sort.Strings(missing)
	s.check("routes: every operation of api/openapi.yaml answered 2xx or 3xx", func() error {
		if len(missing) > 0 {
			return failf("a 2xx or 3xx from every operation", "none from %s", strings.Join(missing, ", "))
		}
		return nil
	})
}

// health checks the public health check. It reports false when the stage did not answer at
// all, so that the run stops at one line rather than failing every check the same way.
func (s *suite) health(ctx context.Context) (reached bool) {
	s.check("health: GET /health-check is 200 ok without a token", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/health-check"})
		if err != nil {
			return err
		}
		reached = true
		var h struct {
			Status string `json:"status"`
		}
		if err := wantJSON(res, 200, &h); err != nil {
			return err
		}
		if h.Status != "ok" {
			return failf(`"status":"ok"`, "%q", h.Status)
		}
		return nil
	})
	return reached
}
