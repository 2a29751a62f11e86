package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// The CRS keeps the rules of every paranoia level in its files and decides per request which
// run: each file opens its sections with rules such as
//
//	SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "id:942013,phase:1,pass,nolog,skipAfter:END-..."
//
// (skip the rest of the file unless the level is 2 or more), and REQUEST-949 sums the scores
// of each level with rules such as SecRule TX:BLOCKING_PARANOIA_LEVEL "@ge 2". decagon's level
// is fixed when the rules compile (waf.paranoiaLevel sets both the detection and the blocking
// level), so these decisions are taken once: the rules of the levels above it, the section
// rules and the sums that cannot match are removed. Evaluating them cost every request about
// seventy rule evaluations, a fifth of those of a request with no arguments; the rules that
// remain, and so every verdict, are the same (TestParanoiaPruning).
var (
	directiveStart = regexp.MustCompile(`(?m)^Sec(?:Rule|Action|Marker)\b`)
	ruleID         = regexp.MustCompile(`\bid:(\d+)`)
	levelTag       = regexp.MustCompile(`tag:'paranoia-level/(\d)'`)
	levelSection   = regexp.MustCompile(`^SecRule TX:(?:DETECTION|BLOCKING)_PARANOIA_LEVEL "@lt (\d)"`)
	levelSum       = regexp.MustCompile(`^SecRule TX:(?:DETECTION|BLOCKING)_PARANOIA_LEVEL "@ge (\d)"`)
)

// crsDirectives returns the directives (SecRule, SecAction, SecMarker) of an embedded CRS
// file, in order, each as directive returns it.
func crsDirectives(name string) ([]string, error) {
	b, err := fs.ReadFile(coreruleset.FS, name)
	if err != nil {
		return nil, fmt.Errorf("read CRS rules: %w", err)
	}
	text := string(b)
	starts := directiveStart.FindAllStringIndex(text, -1)
	out := make([]string, len(starts))
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		out[i] = directive(text[s[0]:end])
	}
	return out, nil
}

// directive returns the directive text starts with: its lines up to the first that does not
// end in a backslash (what follows is comments, blank lines or a chained rule's own lines,
// which the caller reads as part of the chain only when it wants them).
func directive(text string) string {
	end := 0
	for end < len(text) {
		nl := strings.IndexByte(text[end:], '\n')
		if nl < 0 {
			return text
		}
		line := strings.TrimRight(text[end:end+nl], " \t\r")
		end += nl + 1
		if !strings.HasSuffix(line, "\\") {
			break
		}
	}
	return text[:end]
}

// crsRule is one directive of a CRS file (a chain with its children) as far as pruning goes.
type crsRule struct {
	id      int
	section int // the paranoia level of the section it is in (1 before any section rule)
	tag     int // its paranoia-level/N tag, 0 if none
	// sectionRule: opens a section ("@lt N"); sum: one level's score sum ("@ge N"), at level
	// threshold.
	sectionRule, sum bool
	threshold        int
}

// crsRules reads the rules of the request rule files, in order.
func crsRules() ([]crsRule, error) {
	files, err := requestRuleFiles()
	if err != nil {
		return nil, err
	}
	var out []crsRule
	for _, f := range files {
		blocks, err := crsDirectives("@owasp_crs/" + f)
		if err != nil {
			return nil, err
		}
		section := 1
		for _, block := range blocks {
			m := ruleID.FindStringSubmatch(block)
			if m == nil {
				continue // a marker
			}
			r := crsRule{section: section}
			r.id, _ = strconv.Atoi(m[1])
			if t := levelTag.FindStringSubmatch(block); t != nil {
				r.tag, _ = strconv.Atoi(t[1])
			}
			if t := levelSection.FindStringSubmatch(block); t != nil {
				r.sectionRule = true
				r.threshold, _ = strconv.Atoi(t[1])
				section = max(section, r.threshold)
			} else if t := levelSum.FindStringSubmatch(block); t != nil {
				r.sum = true
				r.threshold, _ = strconv.Atoi(t[1])
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// prunedRules returns the IDs of the CRS rules that do nothing at paranoia level pl: the
// rules of the sections above it, every section rule (one whose level is at most pl never
// skips; one above skips only rules removed here), and the sums of the levels above it.
func prunedRules(pl int) ([]int, error) {
	rules, err := crsRules()
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, r := range rules {
		switch {
		case r.sectionRule, r.sum && r.threshold > pl, r.section > pl:
			ids = append(ids, r.id)
		}
	}
	return ids, nil
}

// pruneDirective is the SecRuleRemoveById directive that removes prunedRules(pl) and the
// rules in also, or "".
func pruneDirective(pl int, also []int) (string, error) {
	ids, err := prunedRules(pl)
	if err != nil {
		return "", err
	}
	ids = append(ids, also...)
	if len(ids) == 0 {
		return "", nil
	}
	var b strings.Builder
	b.WriteString("SecRuleRemoveById")
	for _, id := range ids {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteString("\n")
	return b.String(), nil
}
