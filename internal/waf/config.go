package waf

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// Mode says what the WAF does with a request that a rule refuses.
type Mode string

// Modes.
const (
	// ModeBlock refuses the request (403, or 429 for the rate-based rule).
	ModeBlock Mode = "block"
	// ModeCount lets the request through, counting and logging it.
	ModeCount Mode = "count"
)

// Defaults for the zero values of Config.
const (
	DefaultParanoiaLevel    = 1
	DefaultAnomalyThreshold = 5
	DefaultRequestBodyLimit = 16 << 10
	DefaultRateWindow       = 5 * time.Minute
	// DefaultRateCapacity is the number of client IPs the rate-based rule tracks at once; see
	// RateLimit.Capacity.
	DefaultRateCapacity = 1 << 20
)

// rateWindows are the evaluation windows AWS WAF rate-based rules accept.
var rateWindows = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// Config configures a WAF. The zero value works: block mode, paranoia level 1, anomaly
// threshold 5, 16 KiB of body inspected, no rate-based rule, no IP sets, no exclusions.
type Config struct {
	// Mode is ModeBlock (default) or ModeCount.
	Mode Mode
	// ParanoiaLevel is the CRS paranoia level, 1 (default) to 4.
	ParanoiaLevel int
	// AnomalyThreshold is the CRS inbound anomaly score at which a request is refused
	// (default 5: one critical match).
	AnomalyThreshold int
	// RequestBodyLimit is how many bytes of a request body are inspected (default 16 KiB).
	// Bodies past it are inspected up to it and passed on whole, never refused for their size.
	RequestBodyLimit int
	// RateLimit is the rate-based rule; a zero Limit switches it off.
	RateLimit RateLimit
	// Allow lists client CIDRs (IPv4 or IPv6, host bits clear) that skip every rule.
	Allow []string
	// Block lists client CIDRs that are always refused. Block wins over Allow.
	Block []string
	// Exclusions switch CRS rules off by ID, everywhere or on some paths.
	Exclusions []Exclusion
	// ClientIP returns the client address of a request, the key of the IP sets and of the
	// rate-based rule. The edge sets it when it trusts a proxy header; nil takes the address
	// from r.RemoteAddr. A request whose address cannot be told is keyed by the unspecified
	// address (and so shares one rate-limit counter with the others like it).
	ClientIP func(r *http.Request) (netip.Addr, bool)
	// Report, when set, is told of every refused or counted request: action "BLOCK" or
	// "COUNT" and the terminating rule's ID (the edge puts them in its access log line).
	Report func(r *http.Request, action, ruleID string)

	// directives are appended after the generated configuration, before the CRS rules; the
	// regression corpus test uses them for the settings the CRS test suite expects.
	directives string
}

// RateLimit is an AWS WAF rate-based rule: at most Limit requests per client IP in any
// sliding Window.
type RateLimit struct {
	// Limit is the number of requests allowed per window (at least 10; 0 = rule off).
	Limit int
	// Window is 60s, 120s, 300s (default) or 600s.
	Window time.Duration
	// Capacity is the number of distinct client IPs tracked at once (default 1,048,576). The
	// state is a fixed table of 28 bytes per entry allocated up front (28 MiB by default), so
	// memory does not grow with the number of clients; past capacity the least active idle
	// entries are reused first.
	Capacity int
}

// Exclusion switches off CRS rules by ID, on the request paths given or everywhere.
type Exclusion struct {
	// IDs are the rule IDs.
	IDs []int
	// Paths are path patterns with ALB semantics, as decagon.yaml writes them: case-sensitive,
	// '*' any run of characters ('/' included), '?' one character, matching the whole path.
	// Empty means every path.
	Paths []string
	// Reason says why; it is logged when the WAF starts.
	Reason string
}

// withDefaults returns c with its zero fields filled, validated.
func (c Config) withDefaults() (Config, error) {
	if c.Mode == "" {
		c.Mode = ModeBlock
	}
	if c.ParanoiaLevel == 0 {
		c.ParanoiaLevel = DefaultParanoiaLevel
	}
	if c.AnomalyThreshold == 0 {
		c.AnomalyThreshold = DefaultAnomalyThreshold
	}
	if c.RequestBodyLimit == 0 {
		c.RequestBodyLimit = DefaultRequestBodyLimit
	}
	if c.RateLimit.Window == 0 {
		c.RateLimit.Window = DefaultRateWindow
	}
	if c.RateLimit.Capacity == 0 {
		c.RateLimit.Capacity = DefaultRateCapacity
	}
	var errs []error
	if c.Mode != ModeBlock && c.Mode != ModeCount {
		errs = append(errs, fmt.Errorf("mode: must be %q or %q, got %q", ModeBlock, ModeCount, c.Mode))
	}
	if c.ParanoiaLevel < 1 || c.ParanoiaLevel > 4 {
		errs = append(errs, fmt.Errorf("paranoia level: must be 1..4, got %d", c.ParanoiaLevel))
	}
	if c.AnomalyThreshold < 1 {
		errs = append(errs, fmt.Errorf("anomaly threshold: must be at least 1, got %d", c.AnomalyThreshold))
	}
	if c.RequestBodyLimit < 1 || c.RequestBodyLimit > 1<<30 {
		errs = append(errs, fmt.Errorf("request body limit: must be 1 B..1 GiB, got %d", c.RequestBodyLimit))
	}
	if c.RateLimit.Limit != 0 && c.RateLimit.Limit < 10 {
		errs = append(errs, fmt.Errorf("rate limit: must be at least 10 (or 0 for none), got %d", c.RateLimit.Limit))
	}
	if !slices.Contains(rateWindows, c.RateLimit.Window) {
		errs = append(errs, fmt.Errorf("rate window: must be 60s, 120s, 300s or 600s, got %s", c.RateLimit.Window))
	}
	if c.RateLimit.Capacity < 1 || c.RateLimit.Capacity > 1<<26 {
		errs = append(errs, fmt.Errorf("rate capacity: must be 1..%d, got %d", 1<<26, c.RateLimit.Capacity))
	}
	for i, e := range c.Exclusions {
		if len(e.IDs) == 0 {
			errs = append(errs, fmt.Errorf("exclusions[%d]: no rule IDs", i))
		}
		for _, id := range e.IDs {
			if id <= 0 {
				errs = append(errs, fmt.Errorf("exclusions[%d]: rule ID must be positive, got %d", i, id))
			}
		}
		for _, p := range e.Paths {
			if len(p) == 0 || p[0] != '/' && p[0] != '*' {
				errs = append(errs, fmt.Errorf("exclusions[%d]: path pattern must start with '/' or '*', got %q", i, p))
			}
		}
	}
	return c, errors.Join(errs...)
}
