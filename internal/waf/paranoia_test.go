package waf

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/decagon/decagon/internal/topology"
)

// TestCRSRuleSections checks that crsRules reads the CRS files as paranoia.go expects: every
// rule tagged with a paranoia level sits in the section of that level, the request rule files
// open their sections for levels 1 to 4 in both request phases, and the sums of the four levels
// are found.
func TestCRSRuleSections(t *testing.T) {
	rules, err := crsRules()
	if err != nil {
		t.Fatal(err)
	}
	sections, sums := 0, 0
	for _, r := range rules {
		switch {
		case r.sectionRule:
			sections++
		case r.sum:
			sums++
		case r.tag != 0 && r.tag != r.section:
			t.Errorf("rule %d is tagged paranoia-level/%d but sits in the section of level %d", r.id, r.tag, r.section)
		}
	}
	if sections%8 != 0 || sections < 8*12 { // levels 1-4, phases 1 and 2, in each category's file
		t.Errorf("%d section rules, want 8 in each of a dozen files or more", sections)
	}
	if sums != 16 {
		t.Errorf("%d score sums, want 16 (blocking and detection, 4 levels, 2 phases)", sums)
	}
	for pl, want := range map[int]int{1: 200, 4: 0} {
		ids, err := prunedRules(pl)
		if err != nil {
			t.Fatal(err)
		}
		if pl == 4 && len(ids) != sections {
			t.Errorf("level 4: %d rules pruned, want only the %d section rules", len(ids), sections)
		}
		if pl == 1 && len(ids) < want {
			t.Errorf("level 1: only %d rules pruned", len(ids))
		}
	}
}

// TestParanoiaPruning: at levels 1 and 2, the WAF with the rules paranoia.go removes and the
// WAF without them match the same detection rules on every request of the attack and benign
// corpora, and answer the same.
func TestParanoiaPruning(t *testing.T) {
	attacks, _ := attackRequests(t)
	reqs := append(attacks, benignRequests(readCorpus(t, "benign.txt"))...)
	if raceEnabled { // four passes over both corpora take minutes there; make test runs it whole without -race
		reqs = sample(reqs, crsRaceSample)
	}
	for _, pl := range []int{1, 2} {
		t.Run(fmt.Sprint("level ", pl), func(t *testing.T) {
			var got [2][][]int
			var codes [2][]int
			for i, noPruning := range []bool{false, true} {
				cfg := shipped(func(w *topology.WAF) { w.ParanoiaLevel, w.RateLimit.Limit = pl, 2_000_000_000 })
				cfg.noPruning = noPruning
				s := newStack(t, cfg)
				var matched []int
				s.waf.observe = func(_ *http.Request, rules []types.MatchedRule) {
					for _, m := range rules {
						if m.Rule().Severity() != types.RuleSeverityUnset {
							matched = append(matched, m.Rule().ID())
						}
					}
				}
				for _, rq := range reqs {
					matched = nil
					codes[i] = append(codes[i], s.do(t, rq).Code)
					slices.Sort(matched)
					got[i] = append(got[i], slices.Compact(matched))
				}
			}
			differ := 0
			for j, rq := range reqs {
				if codes[0][j] != codes[1][j] || !slices.Equal(got[0][j], got[1][j]) {
					if differ++; differ <= 10 {
						t.Errorf("%s %s %.80q: pruned %d %v, whole %d %v", methodOf(rq), rq.target, strings.TrimSpace(rq.body),
							codes[0][j], got[0][j], codes[1][j], got[1][j])
					}
				}
			}
			if differ > 0 {
				t.Errorf("%d of %d requests differ", differ, len(reqs))
			}
		})
	}
}

// TestSetupFolding: the defaults of REQUEST-901 that setup.go folds are found, and every
// request ends phase 1 with the same settings (TX variables) with and without the folding,
// at the shipped configuration and at the regression corpus's.
func TestSetupFolding(t *testing.T) {
	for name, cfg := range map[string]Config{"shipped": shipped(), "corpus": defaults(func(w *topology.WAF) { w.ParanoiaLevel = 4 })} {
		t.Run(name, func(t *testing.T) {
			if name == "corpus" {
				cfg.directives = crsTestSettings
			}
			whole := cfg
			whole.noPruning = true
			d, err := directives(whole)
			if err != nil {
				t.Fatal(err)
			}
			before, _, _ := strings.Cut(d, "Include @owasp_crs/"+setupFile)
			_, ids, err := settingsFolding(before)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) < 8 {
				t.Errorf("only %d defaults folded: %v", len(ids), ids)
			}
			if slices.Contains(ids, 901160) {
				t.Errorf("901160 (allowed_methods, which the configuration sets) was folded")
			}
			var settings [2]map[string]string
			for i, noPruning := range []bool{false, true} {
				c := cfg
				c.noPruning = noPruning
				w, err := New(c, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				tx := w.engine.NewTransaction()
				tx.ProcessConnection("192.0.2.1", 1234, "", 0)
				tx.ProcessURI("/test?limit=20", http.MethodGet, "HTTP/1.1")
				tx.AddRequestHeader("host", "example.com")
				tx.ProcessRequestHeaders()
				settings[i] = map[string]string{}
				for _, m := range tx.(plugintypes.TransactionState).Variables().TX().FindAll() {
					if k := m.Key(); k != "sampling_rnd100" {
						settings[i][k] = m.Value()
					}
				}
				_ = tx.Close()
			}
			if !maps.Equal(settings[0], settings[1]) {
				t.Errorf("settings after phase 1 differ:\nfolded %v\nwhole  %v", settings[0], settings[1])
			}
		})
	}
}
