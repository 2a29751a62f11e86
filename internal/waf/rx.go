package waf

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"rsc.io/binaryregexp"
)

// The @rx operator is Coraza's own (same pattern flags, same capture behaviour, the same
// binary-regexp fallback) with two changes:
//
//   - a literal pre-check (prefilter.go): most rule evaluations on clean traffic are regexes
//     that cannot match because a literal every match needs is absent, and one pass over the
//     input says so for far less than a regexp engine does;
//   - the regexps run on RE2 itself (github.com/wasilibs/go-re2, RE2 compiled to Go, no cgo;
//     the engine Coraza's project recommends for the CRS), whose DFA runs the CRS's large
//     alternations for about a sixth fewer instructions per clean request than Go's regexp
//     package, whose NFA tracks every alternative at once (callgrind, BenchmarkMiddleware).
//     Both take RE2's syntax; the CRS regression corpus passes on either. Builds with the race
//     detector use Go's package instead (engine_race.go): instrumented, RE2's generated code
//     runs the WAF's tests ten times slower; `make test` runs them without -race too.
//
// Coraza has a pre-check of its own (SecRxPreFilter On, experimental); in v3.8.1 it misses two
// attacks of the CRS regression corpus (932311-7, 942220-2), so it stays off and this one,
// deliberately simpler (required literals and small character sets only, no anchors, no
// prefix/suffix tricks, non-ASCII inputs unchecked wherever case folding or encodings could
// matter), is checked against every value the whole corpus makes the rules see
// (TestCRSRegression re-runs the regexp on each rejected value) and over every CRS pattern by
// FuzzPrefilter.
//
// Registering replaces Coraza's "rx" for the whole process: the WAF is its only user.
func init() {
	plugins.RegisterOperator("rx", newRx)
}

type rxOperator struct {
	re   engineRegexp
	need *requirement // nil: no pre-check
}

// Test hooks: rxPatterns receives every compiled pattern; rxAudit, when set, is called for
// every input the pre-check turned away although the regexp matches it (a bug).
var (
	rxPatterns func(pattern string, re engineRegexp, need *requirement)
	rxAudit    func(pattern, value string)
)

// engineRegexp is what the operator needs of its regexp engine: RE2 or Go's package
// (engine.go, engine_race.go), or the byte-oriented one for patterns that are not UTF-8.
type engineRegexp interface {
	MatchString(s string) bool
	FindStringSubmatchIndex(s string) []int
	String() string
}

func newRx(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	// Coraza's default: dotall and multiline (build tag coraza.rule.no_regex_multiline unset).
	data := "(?sm)" + options.Arguments
	need := requirementOf(data)
	var re engineRegexp
	var err error
	if matchesArbitraryBytes(data) {
		// As Coraza does, a pattern naming bytes that are not UTF-8 runs on a byte-oriented
		// regexp. It reads non-ASCII bytes as Latin-1, not UTF-8: the requirement holds for
		// ASCII inputs only, where both read the same runes.
		if need != nil {
			need.asciiOnly = true
		}
		re, err = compileBinary(data)
	} else {
		re, err = compileEngine(data)
	}
	if err != nil {
		return nil, err
	}
	if rxPatterns != nil {
		rxPatterns(data, re, need)
	}
	return &rxOperator{re: re, need: need}, nil
}

func (o *rxOperator) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.need != nil && !o.need.mayMatch(value) {
		if rxAudit != nil && o.re.MatchString(value) {
			rxAudit(o.re.String(), value)
		}
		return false
	}
	// Capturing groups costs Go's regexp engine more than matching does, and most evaluations
	// do not match: the groups are found only once the value is known to match.
	if !o.re.MatchString(value) {
		return false
	}
	if !tx.Capturing() {
		return true
	}
	match := o.re.FindStringSubmatchIndex(value)
	for i := 0; i < len(match)/2 && i < 9; i++ {
		if match[2*i] >= 0 {
			tx.CaptureField(i, value[match[2*i]:match[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// compileBinary compiles a pattern that names bytes which are not UTF-8.
func compileBinary(expr string) (engineRegexp, error) {
	re, err := binaryregexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return re, nil
}

// matchesArbitraryBytes reports whether expr names bytes (\xNN, \x{NN}) that do not form
// UTF-8, which Go's regexp cannot match: Coraza then uses a byte-oriented regexp.
func matchesArbitraryBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c != '\\' {
			decoded = append(decoded, c)
			continue
		}
		if i+3 >= len(expr) {
			decoded = append(decoded, expr[i:]...)
			break
		}
		if expr[i+1] != 'x' {
			decoded = append(decoded, expr[i])
			continue
		}
		sub, advance := expr[i:], 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub, advance = `\x`+sub[3:end], end
			}
		}
		v, mb, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || mb {
			decoded = append(decoded, expr[i])
			continue
		}
		decoded = append(decoded, byte(v))
		i += advance
	}
	return !utf8.Valid(decoded)
}
