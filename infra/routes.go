package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/decagon/decagon/internal/topology"
)

// paramRE matches an OpenAPI path template parameter, "{test_id}".
var paramRE = regexp.MustCompile(`\{[^}/]+\}`)

// checkRoutes checks that every operation API Gateway gets (local-only ones aside) reaches a
// service: some path rule of decagon.yaml matches its path. Otherwise the ALB would answer it
// with its default 404 in AWS while the local edge routes it.
func checkRoutes(doc Document, topo *topology.Topology) error {
	var errs []error
	doc.Operations(func(path, method string, op map[string]any) {
		if op[LocalOnly] == true {
			return
		}
		sample := paramRE.ReplaceAllString(path, "x")
		if _, ok := topo.Match(sample); !ok {
			errs = append(errs, fmt.Errorf("api/openapi.yaml: %s %s reaches no service: no path rule of decagon.yaml matches %s", strings.ToUpper(method), path, sample))
		}
	})
	return errors.Join(errs...)
}
