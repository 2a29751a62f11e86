package waf

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/corazawaf/coraza/v3/types"
	"gopkg.in/yaml.v3"

	"github.com/decagon/decagon/internal/topology"
)

// crsTestSettings are the CRS settings the regression corpus is written for (those of the
// CRS project's own test setup, which Coraza's runner uses too): every paranoia level on, the
// argument limits the length tests probe, and the CRS defaults for methods and content types
// in place of the API's (911100 and 920420 test those lists).
const crsTestSettings = `
SecAction "id:900005,phase:1,nolog,pass,t:none,\
  setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.arg_name_length=100,\
  setvar:tx.arg_length=400,\
  setvar:tx.total_arg_length=64000,\
  setvar:tx.max_num_args=255,\
  setvar:tx.max_file_size=64100,\
  setvar:tx.combined_file_sizes=65535,\
  setvar:'tx.allowed_methods=GET HEAD POST OPTIONS',\
  setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |text/xml| |application/xml| |application/soap+xml| |application/json|'"
`

// crsRaceSample: under the race detector, one rule file in this many is run.
const crsRaceSample = 8

// crsObservation is what the WAF saw of one request: the IDs of the rules that matched and
// their error log lines (what go-ftw's match_regex reads).
type crsObservation struct {
	ids []int
	log string
}

// TestCRSRegression runs the OWASP CRS regression corpus shipped with the embedded rule set
// through the WAF's middleware, in count mode at paranoia level 4, over real HTTP/1 connections
// to a net/http server (so requests meet the same parser as at the edge). Each test's expected
// and unexpected rule IDs, status and log patterns are checked; the tests listed in
// testdata/crs-exclusions.yaml are expected to fail (and reported if they stop failing).
//
// The whole corpus takes 10-40 s on 2 cores; under the race detector (about ten times slower)
// only every crsRaceSample-th rule's tests run, without the pre-check audit.
func TestCRSRegression(t *testing.T) {
	if testing.Short() {
		t.Skip("the CRS corpus takes a while")
	}
	excludedTests, excludedRules := loadExclusions(t)
	// Every value the @rx pre-check turns away is also run through the regexp: a match would
	// be an attack the pre-check let through.
	var missed atomic.Int64
	if !raceEnabled {
		rxAudit = func(pattern, value string) {
			if missed.Add(1) <= 10 {
				t.Errorf("@rx pre-check rejected %q, which %s matches", value, pattern)
			}
		}
		t.Cleanup(func() { rxAudit = nil })
	}

	cfg := defaults(func(w *topology.WAF) { w.Mode, w.ParanoiaLevel = topology.ModeCount, 4 })
	cfg.directives, cfg.noOperations, cfg.bodyLimit, cfg.rateOff = crsTestSettings, true, 128<<10, true
	w, err := New(cfg,
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]crsObservation{} // by client address: one connection per request
	w.observe = func(r *http.Request, matched []types.MatchedRule) {
		var o crsObservation
		var log strings.Builder
		for _, m := range matched {
			o.ids = append(o.ids, m.Rule().ID())
			log.WriteString(m.ErrorLog())
			log.WriteString("\n")
		}
		o.log = log.String()
		mu.Lock()
		seen[r.RemoteAddr] = o
		mu.Unlock()
	}
	srv := httptest.NewServer(w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(rw, "Hello!")
	})))
	t.Cleanup(srv.Close)
	observe := func(addr string) crsObservation {
		mu.Lock()
		defer mu.Unlock()
		o := seen[addr]
		delete(seen, addr)
		return o
	}

	files := loadCorpus(t)
	inCorpus := map[string]bool{}
	for _, f := range files {
		for _, ft := range f.Tests {
			inCorpus[fmt.Sprintf("%d-%d", f.RuleID, ft.TestID)] = true
		}
	}
	for name := range excludedTests {
		if !inCorpus[name] {
			t.Errorf("crs-exclusions.yaml lists %s, which is not in the corpus", name)
		}
	}
	var total, passed, excluded, stale atomic.Int64
	start := time.Now()
	t.Run("corpus", func(t *testing.T) {
		for i, f := range files {
			if raceEnabled && i%crsRaceSample != 0 {
				continue
			}
			if excludedRules[f.RuleID] != "" {
				excluded.Add(int64(len(f.Tests)))
				total.Add(int64(len(f.Tests)))
				continue
			}
			t.Run(strconv.Itoa(f.RuleID), func(t *testing.T) {
				t.Parallel()
				for _, ft := range f.Tests {
					name := fmt.Sprintf("%d-%d", f.RuleID, ft.TestID)
					total.Add(1)
					failure := runFTWTest(srv.Listener.Addr().String(), ft, observe, logdataTests[name])
					reason, isExcluded := excludedTests[name]
					switch {
					case failure == "" && isExcluded:
						stale.Add(1)
						t.Errorf("%s passes but is excluded (%s): remove it from testdata/crs-exclusions.yaml", name, reason)
					case failure == "":
						passed.Add(1)
					case isExcluded:
						excluded.Add(1)
					default:
						t.Errorf("%s (%s): %s", name, strings.TrimSpace(ft.Desc), failure)
					}
				}
			})
		}
	})
	t.Logf("CRS regression corpus: %d tests, %d passed, %d excluded, %d stale exclusions, %d @rx pre-check misses, in %s",
		total.Load(), passed.Load(), excluded.Load(), stale.Load(), missed.Load(), time.Since(start).Round(time.Millisecond))
}

// logdataTests are the corpus tests whose log expectation reads a rule's logdata ("Matched
// Data: ... found within ARGS:x"), which this WAF does not record (actions.go). Their statuses
// and rule IDs are checked as any test's; their log regex is not, and must fail (the runner
// reports an entry that has become unnecessary).
var logdataTests = map[string]bool{
	"920540-4": true, "931130-24": true, "932200-13": true, "932207-7": true, "932300-10": true,
	"933120-2": true,
}

// runFTWTest sends every stage of ft and returns why it failed, or "". noLogdata: the stages'
// log regexes read logdata (logdataTests); they are checked to fail instead.
func runFTWTest(addr string, ft ftwTest, observe func(string) crsObservation, noLogdata bool) string {
	for i, st := range ft.Stages {
		if st.Stage != nil {
			st = *st.Stage
		}
		raw, err := st.Input.raw()
		if err != nil {
			return fmt.Sprintf("stage %d: %v", i, err)
		}
		status, client, err := roundTrip(addr, raw)
		o := observe(client)
		out := st.Output
		switch {
		case out.ExpectError:
			if err == nil && status != http.StatusBadRequest {
				return fmt.Sprintf("stage %d: got status %d, want a connection error", i, status)
			}
			continue
		case err != nil:
			return fmt.Sprintf("stage %d: %v", i, err)
		case out.Status != 0 && status != out.Status:
			return fmt.Sprintf("stage %d: status %d, want %d (matched %v)", i, status, out.Status, o.ids)
		}
		for _, id := range out.Log.ExpectIDs {
			if !slices.Contains(o.ids, id) {
				return fmt.Sprintf("stage %d: rule %d did not match (matched %v, status %d)", i, id, o.ids, status)
			}
		}
		for _, id := range out.Log.NoExpectIDs {
			if slices.Contains(o.ids, id) {
				return fmt.Sprintf("stage %d: rule %d matched (matched %v)", i, id, o.ids)
			}
		}
		if re := out.Log.MatchRegex; re != "" && regexp.MustCompile(re).MatchString(o.log) == noLogdata {
			if noLogdata {
				return fmt.Sprintf("stage %d: log matches %q although logdata is not recorded: remove the test from logdataTests", i, re)
			}
			return fmt.Sprintf("stage %d: log does not match %q (matched %v)", i, re, o.ids)
		}
		if re := out.Log.NoMatchRegex; re != "" && regexp.MustCompile(re).MatchString(o.log) {
			return fmt.Sprintf("stage %d: log matches %q", i, re)
		}
	}
	return ""
}

// roundTrip sends raw on a new connection and returns the response status and the client
// address the server saw.
func roundTrip(addr string, raw []byte) (status int, client string, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	client = conn.LocalAddr().String()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	// A server that answers before reading the whole request may reset the connection while
	// it is written: the answer is what counts.
	_, _ = conn.Write(raw)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, client, fmt.Errorf("no response: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, client, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(f[1])
	return status, client, err
}

func loadCorpus(t *testing.T) []ftwFile {
	t.Helper()
	var files []ftwFile
	err := fs.WalkDir(crstests.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".yaml" {
			return err
		}
		data, err := fs.ReadFile(crstests.FS, p)
		if err != nil {
			return err
		}
		var f ftwFile
		if err := yaml.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatalf("load CRS corpus: %v", err)
	}
	if len(files) < 300 {
		t.Fatalf("only %d test files in the CRS corpus", len(files))
	}
	return files
}

// loadExclusions reads testdata/crs-exclusions.yaml: tests ("920100-4") and rules excluded, with
// their reasons.
func loadExclusions(t *testing.T) (tests map[string]string, rules map[int]string) {
	t.Helper()
	data, err := os.ReadFile("testdata/crs-exclusions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []ftwExclusion
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatalf("crs-exclusions.yaml: %v", err)
	}
	tests, rules = map[string]string{}, map[int]string{}
	for i, e := range list {
		if strings.TrimSpace(e.Reason) == "" {
			t.Fatalf("crs-exclusions.yaml entry %d has no reason", i)
		}
		for _, id := range e.Tests {
			if _, dup := tests[id]; dup {
				t.Fatalf("crs-exclusions.yaml lists %s twice", id)
			}
			tests[id] = e.Reason
		}
		for _, r := range e.Rules {
			rules[r] = e.Reason
		}
	}
	return tests, rules
}
