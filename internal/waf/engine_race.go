//go:build race

package waf

import "regexp"

// compileEngine compiles a UTF-8 @rx pattern with Go's regexp package: under the race
// detector, RE2's generated code is instrumented access by access and the WAF's tests run ten
// times slower (see rx.go).
func compileEngine(expr string) (engineRegexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return re, nil
}
