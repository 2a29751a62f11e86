package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// WAFStats are the WAF's running totals (internal/waf's Stats, field for field).
type WAFStats struct {
	Allowed, Blocked, Counted, RateLimited uint64
}

// WAF rule groups, the values of decagon_waf_matches_total's rule_group label.
const (
	RuleGroupCRS       = "crs"        // the OWASP Core Rule Set (AWS: the managed rule groups)
	RuleGroupRateBased = "rate_based" // the rate-based rule per client IP
	RuleGroupIPSet     = "ip_set"     // the IP block set
	RuleGroupError     = "inspection_error"
)

// RuleGroup maps a terminating rule ID, as the WAF reports it, to its rule group: the CRS's
// hundreds of rule IDs become one label value.
func RuleGroup(ruleID string) string {
	switch {
	case strings.Contains(ruleID, "rate"):
		return RuleGroupRateBased
	case strings.Contains(ruleID, "ip-block"), strings.Contains(ruleID, "ip_block"):
		return RuleGroupIPSet
	case strings.Contains(ruleID, "inspection"):
		return RuleGroupError
	}
	return RuleGroupCRS
}

// WAF measures the web application firewall: decagon_waf_requests_total{action} from its
// running totals at scrape time (allowed, blocked, counted, rate_limited, as AWS WAF's
// AllowedRequests, BlockedRequests, CountedRequests) and decagon_waf_matches_total{action,
// rule_group} from each refused or counted request.
type WAF struct {
	stats   func() WAFStats
	desc    *prometheus.Desc
	matches *prometheus.CounterVec
}

// NewWAF registers the WAF's series with reg; stats is read at every scrape.
func NewWAF(reg prometheus.Registerer, stats func() WAFStats) *WAF {
	w := &WAF{
		stats: stats,
		desc: prometheus.NewDesc(Namespace+"_waf_requests_total",
			"Requests the WAF decided on, by action: allowed, blocked, counted (count mode), rate_limited.",
			[]string{"action"}, nil),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "waf", Name: "matches_total",
			Help: "Requests a rule refused (action BLOCK) or would have refused (COUNT), by rule group.",
		}, []string{"action", "rule_group"}),
	}
	reg.MustRegister(w, w.matches)
	for _, a := range []string{"BLOCK", "COUNT"} {
		for _, g := range []string{RuleGroupCRS, RuleGroupRateBased, RuleGroupIPSet} {
			w.matches.WithLabelValues(a, g)
		}
	}
	return w
}

// Report records one refused or counted request: action "BLOCK" or "COUNT" (anything else is
// ignored) and the terminating rule's ID. It has the shape of the WAF's Config.Report.
func (w *WAF) Report(action, ruleID string) {
	if action != "BLOCK" && action != "COUNT" {
		return
	}
	w.matches.WithLabelValues(action, RuleGroup(ruleID)).Inc()
}

// Describe sends the totals' descriptor.
func (w *WAF) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

// Collect reads the totals.
func (w *WAF) Collect(ch chan<- prometheus.Metric) {
	s := w.stats()
	for _, kv := range []struct {
		action string
		n      uint64
	}{{"allowed", s.Allowed}, {"blocked", s.Blocked}, {"counted", s.Counted}, {"rate_limited", s.RateLimited}} {
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.CounterValue, float64(kv.n), kv.action)
	}
}
