package waf

import (
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// logdata is registered in place of Coraza's own: the rules keep their logdata actions (the
// configuration parses as the CRS writes it), but nothing is recorded. Coraza expands a rule's
// logdata macro (typically "Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}:
// %{MATCHED_VAR}") on every evaluation of the rule, matched or not, before its operator runs:
// profiling the harness's mix put that at about a tenth of the WAF's CPU. Nothing here reads it:
// a verdict names the rules and their messages (msg, kept), and Coraza's audit and error logs,
// which would print the data, are off. No CRS rule reads %{rule.logdata}.
//
// Registering replaces Coraza's "logdata" for the whole process: the WAF is its only user.
func init() {
	plugins.RegisterAction("logdata", func() plugintypes.Action { return noLogdata{} })
}

type noLogdata struct{}

func (noLogdata) Init(plugintypes.RuleMetadata, string) error { return nil }

func (noLogdata) Evaluate(plugintypes.RuleMetadata, plugintypes.TransactionState) {}

func (noLogdata) Type() plugintypes.ActionType { return plugintypes.ActionTypeNondisruptive }
