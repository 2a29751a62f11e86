//go:build !race

package waf

import re2 "github.com/wasilibs/go-re2"

// compileEngine compiles a UTF-8 @rx pattern with RE2 (see rx.go).
func compileEngine(expr string) (engineRegexp, error) {
	re, err := re2.Compile(expr)
	if err != nil {
		return nil, err
	}
	return re, nil
}
