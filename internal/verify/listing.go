package verify

import (
	"context"
	"fmt"
	"net/url"
)

// pagination checks limit, next_cursor and the cursor round trip on three fresh records: newest
// first, so the first page of two holds the two newest and the next page starts at the oldest.
func (s *suite) pagination(ctx context.Context) {
	run := runID()
	var ids []string
	if !s.check("pagination: three records to page through", func() error {
		for i := range 3 {
			rec, _, err := s.create(ctx, fmt.Sprintf("verify-page-%s-%d", run, i), nil, nil)
			if err != nil {
				return err
			}
			ids = append(ids, rec.TestID)
		}
		return nil
	}) {
		s.skip("pagination: the rest", "the records were not created")
		return
	}
	var cursor string
	if !s.check("pagination: GET /test?limit=2 is the two newest and a next_cursor", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/test?limit=2", token: s.cfg.Token})
		if err != nil {
			return err
		}
		var page recordPage
		if err := wantJSON(res, 200, &page); err != nil {
			return err
		}
		if len(page.Items) != 2 || page.Items[0].TestID != ids[2] || page.Items[1].TestID != ids[1] {
			return failf(fmt.Sprintf("items %s, %s", ids[2], ids[1]), "%s", res)
		}
		if page.NextCursor == "" {
			return failf("a next_cursor", "none in %s", res)
		}
		cursor = page.NextCursor
		return nil
	}) {
		s.skip("pagination: the cursor round trip", "no first page")
	} else {
		s.check("pagination: GET /test?cursor=next_cursor continues after the first page", func() error {
			res, err := s.do(ctx, request{method: "GET", path: "/test?limit=2&cursor=" + url.QueryEscape(cursor), token: s.cfg.Token})
			if err != nil {
				return err
			}
			var page recordPage
			if err := wantJSON(res, 200, &page); err != nil {
				return err
			}
			if len(page.Items) == 0 || page.Items[0].TestID != ids[0] {
				return failf("items[0].test_id "+ids[0], "%s", res)
			}
			return nil
		})
	}
	for _, c := range []struct{ name, query string }{
		{"GET /test?limit=0 is 400", "limit=0"},
		{"GET /test?limit=101 is 400", "limit=101"},
		{"GET /test with a cursor the API did not issue is 400", "cursor=bm90LWEtY3Vyc29y"},
	} {
		s.check("pagination: "+c.name, func() error {
			res, err := s.do(ctx, request{method: "GET", path: "/test?" + c.query, token: s.cfg.Token})
			if err != nil {
				return err
			}
			return wantProblem(res, 400)
		})
	}
}

// idempotency checks Idempotency-Key: the same key and body replay the first record, another
// body with the same key is 422.
func (s *suite) idempotency(ctx context.Context) {
	key := "verify-" + runID()
	name := "verify-idem-" + key
	hdr := map[string]string{"Idempotency-Key": key}
	var first *record
	if !s.check("idempotency: POST /test with an Idempotency-Key is 201", func() (err error) {
		first, _, err = s.create(ctx, name, nil, hdr)
		return err
	}) {
		s.skip("idempotency: the rest", "the first request failed")
		return
	}
	s.check("idempotency: the same key and body replay the record with Idempotent-Replayed: true", func() error {
		rec, res, err := s.create(ctx, name, nil, hdr)
		if err != nil {
			return err
		}
		if rec.TestID != first.TestID {
			return failf("test_id "+first.TestID, "%q", rec.TestID)
		}
		if h := res.header.Get("Idempotent-Replayed"); h != "true" {
			return failf("Idempotent-Replayed: true", "%q", h)
		}
		return nil
	})
	s.check("idempotency: the same key with another body is 422", func() error {
		res, err := s.doJSON(ctx, "POST", "/test", s.cfg.Token, map[string]any{"name": name + "-other"}, hdr)
		if err != nil {
			return err
		}
		return wantProblem(res, 422)
	})
}
