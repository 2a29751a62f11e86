package waf

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/decagon/decagon/internal/web"
)

// The log record follows AWS WAF's (https://docs.aws.amazon.com/waf/latest/developerguide/
// logging-fields.html): one line per refused or counted request. A refused request has action
// BLOCK and its terminating rule; a counted one (count mode) has action ALLOW, the default
// action as terminating rule and the rules that would have refused it as non-terminating
// matches with action COUNT. The CRS appears as one managed rule group whose rule list holds
// every CRS rule that matched.

type ruleRef struct {
	RuleID string `json:"ruleId"`
	Action string `json:"action"`
}

type ruleGroup struct {
	RuleGroupID                 string    `json:"ruleGroupId"`
	TerminatingRule             *ruleRef  `json:"terminatingRule"`
	NonTerminatingMatchingRules []ruleRef `json:"nonTerminatingMatchingRules"`
}

type rateBasedRule struct {
	RateBasedRuleID     string `json:"rateBasedRuleId"`
	LimitKey            string `json:"limitKey"`
	MaxRateAllowed      int    `json:"maxRateAllowed"`
	EvaluationWindowSec int    `json:"evaluationWindowSec"`
}

type httpRequest struct {
	ClientIP    string `json:"clientIp"`
	Country     string `json:"country"`
	URI         string `json:"uri"`
	Args        string `json:"args"`
	HTTPVersion string `json:"httpVersion"`
	HTTPMethod  string `json:"httpMethod"`
	RequestID   string `json:"requestId"`
}

// log writes one AWS-WAF-shaped line for r: action is BLOCK (vs holds the one refusal) or
// ALLOW (count mode: vs holds what would have refused r).
func (w *WAF) log(r *http.Request, ip netip.Addr, action string, vs []*verdict) {
	terminating, terminatingType := "Default_Action", "REGULAR"
	if action == "BLOCK" {
		terminating, terminatingType = vs[0].terminatingRule, vs[0].ruleType
	}
	var (
		groups  []ruleGroup
		rates   []rateBasedRule
		nonTerm []ruleRef
		score   int
		matched []matchedRule
	)
	for _, v := range vs {
		switch v.ruleType {
		case "MANAGED_RULE_GROUP":
			g := ruleGroup{RuleGroupID: ruleGroupCRS, NonTerminatingMatchingRules: []ruleRef{}}
			for _, m := range v.matched {
				if m.ID == v.terminatingRule {
					continue
				}
				g.NonTerminatingMatchingRules = append(g.NonTerminatingMatchingRules, ruleRef{RuleID: m.ID, Action: "COUNT"})
			}
			if action == "BLOCK" {
				g.TerminatingRule = &ruleRef{RuleID: v.terminatingRule, Action: "BLOCK"}
			} else {
				nonTerm = append(nonTerm, ruleRef{RuleID: ruleGroupCRS, Action: "COUNT"})
				g.NonTerminatingMatchingRules = append(g.NonTerminatingMatchingRules, ruleRef{RuleID: v.terminatingRule, Action: "COUNT"})
			}
			groups = append(groups, g)
			score, matched = v.score, v.matched
		case "RATE_BASED":
			rates = append(rates, rateBasedRule{
				RateBasedRuleID:     ruleRateLimit,
				LimitKey:            "IP",
				MaxRateAllowed:      w.cfg.RateLimit.Limit,
				EvaluationWindowSec: int(w.cfg.RateLimit.Window.Seconds()),
			})
			if action != "BLOCK" {
				nonTerm = append(nonTerm, ruleRef{RuleID: ruleRateLimit, Action: "COUNT"})
			}
		default:
			matched = append(matched, v.matched...)
			if action != "BLOCK" {
				nonTerm = append(nonTerm, ruleRef{RuleID: v.terminatingRule, Action: "COUNT"})
			}
		}
	}
	if groups == nil {
		groups = []ruleGroup{}
	}
	if rates == nil {
		rates = []rateBasedRule{}
	}
	if nonTerm == nil {
		nonTerm = []ruleRef{}
	}
	ids := make([]string, 0, len(matched))
	for _, m := range matched {
		ids = append(ids, m.ID)
	}
	if matched == nil {
		matched = []matchedRule{}
	}
	ctx := r.Context()
	w.logger.LogAttrs(ctx, slog.LevelWarn, "waf",
		slog.Int64("timestamp", w.now().UnixMilli()),
		slog.Int("formatVersion", 1),
		slog.String("webaclId", "decagon-local"),
		slog.String("terminatingRuleId", terminating),
		slog.String("terminatingRuleType", terminatingType),
		slog.String("action", action),
		slog.Any("ruleGroupList", groups),
		slog.Any("rateBasedRuleList", rates),
		slog.Any("nonTerminatingMatchingRules", nonTerm),
		slog.Any("matchedRuleIds", ids),
		// Each matched rule with its message: what an operator reads to tell why.
		slog.Any("matchedRules", matched),
		slog.String("reason", summary(vs)),
		slog.Int("anomalyScore", score),
		slog.Any("httpRequest", httpRequest{
			ClientIP:    ip.String(),
			Country:     "-",
			URI:         r.URL.EscapedPath(),
			Args:        r.URL.RawQuery,
			HTTPVersion: r.Proto,
			HTTPMethod:  r.Method,
			RequestID:   requestID(r),
		}),
	)
}

// summary is one readable line of what refused (or would have refused) a request: the rules
// that matched with their messages, the deciding rule last ("941100 XSS Attack Detected via
// libinjection; 949110 Inbound Anomaly Score Exceeded (Total Score: 5)").
func summary(vs []*verdict) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, v.summary())
	}
	return strings.Join(parts, "; ")
}

func (v *verdict) summary() string {
	var parts []string
	var last string
	for _, m := range v.matched {
		if m.ID == v.terminatingRule {
			last = m.String()
			continue
		}
		parts = append(parts, m.String())
	}
	if last == "" {
		last = v.terminatingRule
	}
	return strings.Join(append(parts, last), "; ")
}

// requestID is the request's ID: from web's context, else from the X-Request-Id header the
// edge sets before the WAF runs.
func requestID(r *http.Request) string {
	if id := web.RequestID(r.Context()); id != "" {
		return id
	}
	if id := r.Header.Get(web.HeaderRequestID); web.ValidRequestID(id) {
		return id
	}
	return ""
}
