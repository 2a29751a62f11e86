package topology

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// WAF modes.
const (
	// ModeBlock refuses requests that match.
	ModeBlock = "block"
	// ModeCount only counts and logs requests that match.
	ModeCount = "count"
)

// Oversize handling, as AWS WAF names it: what a rule does with a body longer than it
// inspects.
const (
	// OversizeContinue inspects the first InspectLimit bytes and lets the rest pass unread.
	OversizeContinue = "CONTINUE"
	// OversizeMatch treats the request as matching: it is refused (403) unread.
	OversizeMatch = "MATCH"
	// OversizeNoMatch treats the body as not matching: the body rules are skipped, the URI,
	// query and headers still inspected.
	OversizeNoMatch = "NO_MATCH"
)

// Limits of the body scopes' inspection sizes. The local WAF may inspect more than AWS WAF's
// 64 KiB for API Gateway: the JSON scope must cover the document's bound on a JSON body.
const (
	MinInspectLimit = 1 << 10
	MaxInspectLimit = 1 << 20
)

// DefaultJSONInspectLimit covers the largest JSON body api/openapi.yaml allows (data at most
// 64 KiB once encoded, plus the other members and escaping) with room to spare.
const DefaultJSONInspectLimit = 128 << 10

// RateWindows are the evaluation windows AWS WAF rate-based rules accept.
var RateWindows = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// WAF is the web application firewall: AWS WAF in AWS, Coraza with the OWASP Core Rule Set in
// the local edge. The waf package takes this value as it is, validated here once.
type WAF struct {
	// Mode is ModeBlock or ModeCount.
	Mode string `yaml:"mode"`
	// ParanoiaLevel is the CRS paranoia level (1..4).
	ParanoiaLevel int `yaml:"paranoiaLevel"`
	// AnomalyThreshold is the CRS inbound anomaly score at which a request is blocked.
	AnomalyThreshold int `yaml:"anomalyThreshold"`
	// RequestBodyLimit is how many bytes of a body outside the scopes of Body are inspected
	// (16 KiB steps up to 64 KiB, as AWS WAF inspects for API Gateway); the rest passes.
	RequestBodyLimit int `yaml:"requestBodyLimit"`
	// Body sets the inspection size and oversize handling per scope of api/openapi.yaml's
	// operations.
	Body BodyScopes `yaml:"body"`
	// RateLimit is the rate-based rule per client IP.
	RateLimit RateLimit `yaml:"rateLimit"`
	// IPSets are the allow and block lists.
	IPSets IPSets `yaml:"ipSets"`
	// Exclusions switch off CRS rules by ID, everywhere or on some paths.
	Exclusions []Exclusion `yaml:"exclusions"`
}

// BodyScopes are the kinds of request body the document declares.
type BodyScopes struct {
	// JSON is every operation whose request body is declared application/json (or +json),
	// and any body of a content type its operation does not declare (the stage answers 415 to
	// a clean one; the WAF reads it first, as AWS WAF does before API Gateway).
	JSON BodyScope `yaml:"json"`
	// Upload is every operation that takes files (multipart/form-data or */*: POST /upload,
	// the presigned PUT). Only multipart bodies are inspected (part names, file names,
	// fields); a raw file is not (files are data, as the AWS web ACL scopes them out).
	Upload BodyScope `yaml:"upload"`
}

// BodyScope is the inspection of one kind of body.
type BodyScope struct {
	// InspectLimit is how many bytes are inspected.
	InspectLimit int `yaml:"inspectLimit"`
	// Oversize is OversizeContinue, OversizeMatch or OversizeNoMatch.
	Oversize string `yaml:"oversize"`
}

// RateLimit is an AWS WAF rate-based rule: at most Limit requests per client IP per Window.
type RateLimit struct {
	// Limit is the number of requests allowed per window (at least 10).
	Limit int `yaml:"limit"`
	// Window is the evaluation window: 60s, 120s, 300s or 600s.
	Window time.Duration `yaml:"window"`
}

// IPSets are CIDR lists, IPv4 and IPv6 mixed.
type IPSets struct {
	// Allow lists clients that skip the rule groups and the rate-based rule.
	Allow []string `yaml:"allow"`
	// Block lists clients that are always refused.
	Block []string `yaml:"block"`
}

// Exclusion switches off CRS rules by ID on the paths given (path patterns with ALB
// semantics), or everywhere when Paths is empty.
type Exclusion struct {
	// IDs are the CRS rule IDs.
	IDs []int `yaml:"ids"`
	// Paths are path patterns; empty means every path.
	Paths []string `yaml:"paths"`
	// Reason says why the rule is excluded.
	Reason string `yaml:"reason"`
}

// DefaultWAF returns the settings a decagon.yaml without a waf section gets. Its JSON scope
// never lets a JSON body pass unread: a body past the limit is refused.
func DefaultWAF() WAF {
	return WAF{
		Mode:             ModeBlock,
		ParanoiaLevel:    1,
		AnomalyThreshold: 5,
		RequestBodyLimit: DefaultRequestBodyLimit,
		Body: BodyScopes{
			JSON:   BodyScope{InspectLimit: DefaultJSONInspectLimit, Oversize: OversizeMatch},
			Upload: BodyScope{InspectLimit: DefaultRequestBodyLimit, Oversize: OversizeContinue},
		},
		RateLimit: RateLimit{Limit: 1000, Window: 5 * time.Minute},
	}
}

// Validate checks w as Parse does (Parse calls the same code), for a WAF built in Go rather
// than decoded: the error joins one *FieldError per problem.
func (w WAF) Validate() error {
	v := &validator{lines: map[string]int{}}
	v.waf(w)
	return errors.Join(v.errs...)
}

func (v *validator) waf(w WAF) {
	v.oneOf("waf.mode", w.Mode, ModeBlock, ModeCount)
	v.intRange("waf.paranoiaLevel", w.ParanoiaLevel, 1, 4)
	v.intRange("waf.anomalyThreshold", w.AnomalyThreshold, 1, 10000)
	if w.RequestBodyLimit <= 0 || w.RequestBodyLimit > 64<<10 || w.RequestBodyLimit%(16<<10) != 0 {
		v.errf("waf.requestBodyLimit", "must be 16384, 32768, 49152 or 65536 bytes (AWS WAF's inspection sizes), got %d", w.RequestBodyLimit)
	}
	v.bodyScope("waf.body.json", w.Body.JSON)
	v.bodyScope("waf.body.upload", w.Body.Upload)
	v.intRange("waf.rateLimit.limit", w.RateLimit.Limit, 10, 2_000_000_000)
	if !slices.Contains(RateWindows, w.RateLimit.Window) {
		v.errf("waf.rateLimit.window", "must be 60s, 120s, 300s or 600s, got %s", w.RateLimit.Window)
	}
	v.cidrs("waf.ipSets.allow", w.IPSets.Allow)
	v.cidrs("waf.ipSets.block", w.IPSets.Block)
	for i, e := range w.Exclusions {
		p := fmt.Sprintf("waf.exclusions[%d]", i)
		if len(e.IDs) == 0 {
			v.errf(p+".ids", "must list at least one rule ID")
		}
		for k, id := range e.IDs {
			if id <= 0 {
				v.errf(fmt.Sprintf("%s.ids[%d]", p, k), "must be a positive rule ID, got %d", id)
			}
		}
		for k, pat := range e.Paths {
			v.pattern(fmt.Sprintf("%s.paths[%d]", p, k), pat)
		}
	}
}

func (v *validator) bodyScope(p string, s BodyScope) {
	v.intRange(p+".inspectLimit", s.InspectLimit, MinInspectLimit, MaxInspectLimit)
	v.oneOf(p+".oversize", s.Oversize, OversizeContinue, OversizeMatch, OversizeNoMatch)
}

func (v *validator) cidrs(p string, list []string) {
	for i, s := range list {
		ip := fmt.Sprintf("%s[%d]", p, i)
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			v.errf(ip, "must be a CIDR like 192.0.2.0/24 or 2001:db8::/32, got %q", s)
			continue
		}
		if prefix.Masked() != prefix {
			v.errf(ip, "has host bits set: write %s", prefix.Masked())
		}
	}
}
