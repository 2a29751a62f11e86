package verify

import (
	"context"
	"strings"
)

// gateway checks the answers the stage gives before a service sees the request: unknown
// routes, request validation (content type, JSON, schema, parameters). Each is a problem
// document on both stages: API Gateway's gateway responses and the local edge must agree.
func (s *suite) gateway(ctx context.Context) {
	// API Gateway answers an unknown route with MISSING_AUTHENTICATION_TOKEN, 403 unless the
	// stage declares another status (decagon's declares 404); the local edge answers 404.
	s.check("gateway: an unknown path is a 404 or 403 problem", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/verify-no-such-route", token: s.cfg.Token})
		if err != nil {
			return err
		}
		return wantProblem(res, 404, 403)
	})
	s.check("gateway: an unknown path without a token is a 404 or 403 problem", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/verify-no-such-route"})
		if err != nil {
			return err
		}
		return wantProblem(res, 404, 403)
	})
	for _, c := range []struct {
		name, method, path, contentType, body string
		status                                int
	}{
		{"POST /test with Content-Type text/plain is 415", "POST", "/test", "text/plain", `{"name":"verify"}`, 415},
		{"POST /test with malformed JSON is 400", "POST", "/test", "application/json", `{"name":`, 400},
		{"POST /test without its required name is 400", "POST", "/test", "application/json", `{}`, 400},
		{"POST /test with an unknown member is 400", "POST", "/test", "application/json", `{"name":"verify","verify":1}`, 400},
		{"POST /test with a name of 201 characters is 400", "POST", "/test", "application/json", `{"name":"` + longName + `"}`, 400},
		{"GET /test/{test_id} with an ID that is not a UUID is 400", "GET", "/test/not-a-uuid", "", "", 400},
	} {
		s.check("gateway: "+c.name, func() error {
			req := request{method: c.method, path: c.path, token: s.cfg.Token, contentType: c.contentType}
			if c.body != "" {
				req.body = []byte(c.body)
			}
			res, err := s.do(ctx, req)
			if err != nil {
				return err
			}
			return wantProblem(res, c.status)
		})
	}
}

// longName is one character longer than a record's name may be.
var longName = strings.Repeat("n", 201)
