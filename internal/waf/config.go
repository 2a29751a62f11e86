package waf

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/decagon/decagon/internal/topology"
)

// DefaultRateCapacity is the number of client IPs the rate-based rule tracks at once; see
// Config.RateCapacity.
const DefaultRateCapacity = 1 << 20

// Config configures a WAF: decagon.yaml's waf section as topology decoded and validated it
// (topology.Load, or topology.DefaultWAF for code and tests), and the hooks of the process
// that runs it.
type Config struct {
	// WAF is decagon.yaml's waf section. New takes it as it is: topology owns its defaults
	// and its validation (New only re-runs that validation for values built in Go).
	topology.WAF
	// RateCapacity is the number of distinct client IPs the rate-based rule tracks at once
	// (0: DefaultRateCapacity). The state is a fixed table of 28 bytes per entry allocated up
	// front (28 MiB by default), so memory does not grow with the number of clients; past
	// capacity the least active idle entries are reused first.
	RateCapacity int
	// ClientIP returns the client address of a request, the key of the IP sets and of the
	// rate-based rule. The edge sets it when it trusts a proxy header; nil takes the address
	// from r.RemoteAddr. A request whose address cannot be told is keyed by the unspecified
	// address (and so shares one rate-limit counter with the others like it).
	ClientIP func(r *http.Request) (netip.Addr, bool)
	// Report, when set, is told of every refused or counted request: action "BLOCK" or
	// "COUNT" and the terminating rule, readable: its ID and, for the rule groups, the
	// message of the rule that decided ("941100 XSS Attack Detected via libinjection"); the
	// edge puts it in its access log line and the dashboard's events.
	Report func(r *http.Request, action, rule string)

	// directives are appended after the generated configuration, before the CRS rules; the
	// regression corpus test uses them for the settings the CRS test suite expects.
	directives string
	// noOperations leaves api/openapi.yaml's operations out (every body takes the generic
	// path), for the CRS regression corpus, whose requests are not the API's.
	noOperations bool
	// bodyLimit, when set, replaces RequestBodyLimit past AWS WAF's sizes, and rateOff turns
	// the rate-based rule off: both for the regression corpus, which sends large bodies and
	// thousands of requests from one address.
	bodyLimit int
	rateOff   bool
	// crsValueTargets leaves argument values in the CRS rules valueTargets takes them out of
	// (as the regression corpus has it, with noOperations too): for the corpus test's figure
	// of CRS alone.
	crsValueTargets bool
	// noPruning keeps the rules paranoia.go and setup.go remove, for the tests that compare
	// verdicts with and without them.
	noPruning bool
}

// check validates c: the topology value through topology's own validation (one set of
// rules), the rest here.
func (c *Config) check() error {
	if err := c.WAF.Validate(); err != nil {
		return err
	}
	if c.RateCapacity == 0 {
		c.RateCapacity = DefaultRateCapacity
	}
	if c.RateCapacity < 1 || c.RateCapacity > 1<<26 {
		return fmt.Errorf("rate capacity: must be 1..%d, got %d", 1<<26, c.RateCapacity)
	}
	return nil
}

// maxInspect is the most body any request gets inspected.
func (c *Config) maxInspect() int {
	return max(c.genericLimit(), c.Body.JSON.InspectLimit, c.Body.Upload.InspectLimit)
}

// genericLimit is how much of a body outside the document's scopes is inspected.
func (c *Config) genericLimit() int {
	if c.bodyLimit > 0 {
		return c.bodyLimit
	}
	return c.RequestBodyLimit
}
