package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// record is a test record as the API returns it.
type record struct {
	TestID    string          `json:"test_id"`
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data"`
	Owner     string          `json:"owner"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

type recordPage struct {
	Items      []record `json:"items"`
	NextCursor string   `json:"next_cursor"`
}

// runID tells this run's records apart from a user's own and from another run's.
func runID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// create posts a record and schedules its deletion; it checks what every create must answer.
func (s *suite) create(ctx context.Context, name string, data map[string]any, header map[string]string) (*record, *response, error) {
	body := map[string]any{"name": name}
	if data != nil {
		body["data"] = data
	}
	res, err := s.doJSON(ctx, "POST", "/test", s.cfg.Token, body, header)
	if err != nil {
		return nil, nil, err
	}
	var rec record
	if err := wantJSON(res, 201, &rec); err != nil {
		return nil, res, err
	}
	switch {
	case rec.TestID == "" || rec.Owner == "" || rec.CreatedAt == "" || rec.UpdatedAt == "":
		return nil, res, failf("test_id, owner, created_at and updated_at", "%s", res)
	case rec.Name != name:
		return nil, res, failf("name "+name, "%q", rec.Name)
	case !strings.HasSuffix(res.header.Get("Location"), "/test/"+rec.TestID):
		return nil, res, failf("Location …/test/"+rec.TestID, "%q", res.header.Get("Location"))
	}
	return &rec, res, nil
}

// records checks create, read, list and delete, and that records stay their owner's.
func (s *suite) records(ctx context.Context) {
	run := runID()
	var rec *record
	if !s.check("records: POST /test is 201 with the record and its Location", func() (err error) {
		rec, _, err = s.create(ctx, "verify-"+run, map[string]any{"run": run}, nil)
		return err
	}) {
		s.skip("records: the rest", "no record was created")
		return
	}
	path := "/test/" + rec.TestID
	s.check("records: GET /test/{test_id} is 200 with the record", func() error {
		res, err := s.do(ctx, request{method: "GET", path: path, token: s.cfg.Token})
		if err != nil {
			return err
		}
		var got record
		if err := wantJSON(res, 200, &got); err != nil {
			return err
		}
		if got.TestID != rec.TestID || got.Name != rec.Name || got.Owner != rec.Owner {
			return failf("the record created", "%s", res)
		}
		return nil
	})
	s.check("records: GET /test lists it first", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/test", token: s.cfg.Token})
		if err != nil {
			return err
		}
		var page recordPage
		if err := wantJSON(res, 200, &page); err != nil {
			return err
		}
		if len(page.Items) == 0 || page.Items[0].TestID != rec.TestID {
			return failf("items[0].test_id "+rec.TestID, "%s", res)
		}
		return nil
	})
	s.check("records: GET /test answers with the X-Request-Id it was sent", func() error {
		id := "verify-" + run
		res, err := s.do(ctx, request{method: "GET", path: "/test?limit=1", token: s.cfg.Token, header: map[string]string{"X-Request-Id": id}})
		if err != nil {
			return err
		}
		if err := wantJSON(res, 200, nil); err != nil {
			return err
		}
		if got := res.header.Values("X-Request-Id"); !slices.Contains(got, id) {
			return failf("X-Request-Id: "+id, "%q", got)
		}
		return nil
	})
	s.check("records: GET /test?owner=another by a non-admin is 403", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/test?owner=verify-another-owner", token: s.cfg.Token})
		if err != nil {
			return err
		}
		return wantProblem(res, 403)
	})
	s.otherUser(ctx, "records", path)
	s.admin(ctx, rec)
	s.check("records: DELETE /test/{test_id} is 204, then GET is 404", func() error {
		res, err := s.do(ctx, request{method: "DELETE", path: path, token: s.cfg.Token})
		if err != nil {
			return err
		}
		if err := wantStatus(res, 204); err != nil {
			return err
		}
		if res, err = s.do(ctx, request{method: "GET", path: path, token: s.cfg.Token}); err != nil {
			return err
		}
		return wantProblem(res, 404)
	})
}

// otherUser checks that another user's token neither reads nor deletes the resource at path,
// and that the owner still reads it afterwards.
func (s *suite) otherUser(ctx context.Context, area, path string) {
	template := "/test/{test_id}"
	if strings.HasPrefix(path, "/upload/") {
		template = "/upload/{upload_id}"
	}
	if s.cfg.OtherToken == "" {
		s.skip(area+": another user's token on "+template, "no --token-other given")
		return
	}
	s.check(area+": GET "+template+" with another user's token is 404", func() error {
		res, err := s.do(ctx, request{method: "GET", path: path, token: s.cfg.OtherToken})
		if err != nil {
			return err
		}
		return wantProblem(res, 404)
	})
	s.check(area+": DELETE "+template+" with another user's token is 404 and deletes nothing", func() error {
		res, err := s.do(ctx, request{method: "DELETE", path: path, token: s.cfg.OtherToken})
		if err != nil {
			return err
		}
		if err := wantProblem(res, 404); err != nil {
			return err
		}
		if res, err = s.do(ctx, request{method: "GET", path: path, token: s.cfg.Token}); err != nil {
			return err
		}
		return wantJSON(res, 200, nil)
	})
}

// admin checks that a member of the admin group reads and lists another user's records.
func (s *suite) admin(ctx context.Context, rec *record) {
	if s.cfg.AdminToken == "" {
		s.skip("records: an admin reads another user's records", "no --admin-token given")
		return
	}
	s.check("records: GET /test/{test_id} with an admin's token is 200", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/test/" + rec.TestID, token: s.cfg.AdminToken})
		if err != nil {
			return err
		}
		var got record
		if err := wantJSON(res, 200, &got); err != nil {
			return err
		}
		if got.TestID != rec.TestID {
			return failf("test_id "+rec.TestID, "%q", got.TestID)
		}
		return nil
	})
	s.check("records: GET /test?owner= with an admin's token lists the owner's records", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/test?owner=" + url.QueryEscape(rec.Owner), token: s.cfg.AdminToken})
		if err != nil {
			return err
		}
		var page recordPage
		if err := wantJSON(res, 200, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Owner != rec.Owner {
				return failf("only owner "+rec.Owner, "owner %q in %s", it.Owner, res)
			}
		}
		if len(page.Items) == 0 || page.Items[0].TestID != rec.TestID {
			return failf("items[0].test_id "+rec.TestID, "%s", res)
		}
		return nil
	})
}
