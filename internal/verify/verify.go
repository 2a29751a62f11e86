package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config says which stage to check and with which tokens.
type Config struct {
	// URL is the stage's base URL: http://127.0.0.1:8080 for decagon dev, or the invoke URL
	// https://{api}.execute-api.{region}.amazonaws.com/Test of a deployed stage.
	URL string
	// Token is a valid token of a user (an access token: `decagon token`, or Cognito's AccessToken).
	Token string
	// OtherToken, when set, is another user's token: it must see none of Token's records.
	OtherToken string
	// AdminToken, when set, is a token of a member of the admin group: it reads any record.
	AdminToken string
	// NoBearer sends "Authorization: TOKEN" instead of "Authorization: Bearer TOKEN", the form
	// AWS's examples for a Cognito authorizer use.
	NoBearer bool
	// Client sends the requests; nil means a client with a 30 s timeout. Redirects are never
	// followed: the suite checks them.
	Client *http.Client
	// Out gets one line per check and the closing count; nil discards them.
	Out io.Writer
}

// Result counts the checks.
type Result struct {
	Passed, Failed, Skipped int
	// Failures holds the failing lines, "name: want …, got …".
	Failures []string
}

// OK reports whether no check failed.
func (r Result) OK() bool { return r.Failed == 0 }

// Run checks the stage at cfg.URL and returns the count. The error is for a configuration that
// cannot be run (no URL, no token, an unreadable OpenAPI document); a stage that breaks the
// contract is a Result with failures, not an error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return Result{}, fmt.Errorf("verify: --url %q: want http(s)://host[:port][/stage]", cfg.URL)
	}
	if cfg.Token == "" {
		return Result{}, errors.New("verify: a token is needed (decagon token, or a Cognito access token)")
	}
	routes, err := loadRoutes()
	if err != nil {
		return Result{}, fmt.Errorf("verify: %w", err)
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy, so that the caller's client keeps following redirects elsewhere.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	s := &suite{cfg: cfg, base: base.String(), client: &c, out: out, routes: routes, covered: map[string]bool{}}
	s.run(ctx)
	fmt.Fprintf(out, "%d passed, %d failed", s.res.Passed, s.res.Failed)
	if s.res.Skipped > 0 {
		fmt.Fprintf(out, " (%d skipped)", s.res.Skipped)
	}
	fmt.Fprintln(out)
	return s.res, nil
}

// suite is one run: the stage, what was created (to clean it up) and the tally.
type suite struct {
	cfg    Config
	base   string
	client *http.Client
	out    io.Writer
	res    Result

	routes  []route
	covered map[string]bool // route patterns that answered 2xx or 3xx
	// noUploads, when set, says why the stage's uploads were not checked.
	noUploads string
	cleanup   []func(context.Context)
}

func (s *suite) run(ctx context.Context) {
	defer func() {
		// Last created, first deleted; with a fresh context so that a cancelled run still cleans up.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for i := len(s.cleanup) - 1; i >= 0; i-- {
			s.cleanup[i](cctx)
		}
	}()
	if !s.health(ctx) {
		s.skip("every other check", "the stage at "+s.base+" did not answer")
		return
	}
	s.authOnEveryRoute(ctx)
	s.gateway(ctx)
	s.records(ctx)
	s.pagination(ctx)
	s.idempotency(ctx)
	s.uploads(ctx)
	s.coverage()
}

// mismatch is a failed expectation.
type mismatch struct{ want, got string }

func (m *mismatch) Error() string { return "want " + m.want + ", got " + m.got }

func failf(want, gotFormat string, args ...any) error {
	return &mismatch{want: want, got: fmt.Sprintf(gotFormat, args...)}
}

// check runs one check and prints its line; it reports whether the check passed.
func (s *suite) check(name string, fn func() error) bool {
	err := fn()
	if err == nil {
		s.res.Passed++
		fmt.Fprintf(s.out, "ok   %s\n", name)
		return true
	}
	var sk skipped
	if errors.As(err, &sk) {
		s.skip(name, sk.reason)
		return false
	}
	s.res.Failed++
	line := name + ": " + err.Error()
	var m *mismatch
	if !errors.As(err, &m) {
		// The request itself failed: no answer to compare.
		line = name + ": want a response, got " + err.Error()
	}
	s.res.Failures = append(s.res.Failures, line)
	fmt.Fprintf(s.out, "FAIL %s\n", line)
	return false
}

// skipped is returned by a check that cannot run on this stage.
type skipped struct{ reason string }

func (s skipped) Error() string { return "skipped: " + s.reason }

func (s *suite) skip(name, reason string) {
	s.res.Skipped++
	fmt.Fprintf(s.out, "skip %s: %s\n", name, reason)
}

// onCleanup registers fn to run when the suite ends.
func (s *suite) onCleanup(fn func(context.Context)) { s.cleanup = append(s.cleanup, fn) }
