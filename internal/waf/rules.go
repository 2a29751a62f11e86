package waf

import (
	_ "embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"

	"github.com/decagon/decagon/internal/topology"
)

// IDs of the rules this package generates, below the CRS range (900000-999999) and outside
// Coraza's recommended configuration (200000-200099).
const (
	firstExclusionRuleID = 10000 // one per exclusion: 10000 + index
	truncatedVar         = "decagon_body_truncated"
	exclusionVar         = "decagon_exclusion_" // + index
	jsonVar              = "decagon_json_body"  // the body is a JSON operation's (operations.go)
	skipBodyVar          = "decagon_skip_body"  // the body is a file
	formVar              = "decagon_form_body"  // a form the operation does not declare
	textVar              = "decagon_text_body"  // any other body the operation does not declare
)

// valueTargetRules are the CRS rules that do not read argument values (see valueTargets).
var valueTargetRules = []int{930120, 932230, 932235, 932250, 932260, 932340, 932160, 933160, 934100, 941390, 941180, 933150, 942151, 932280, 932130, 933135, 942190}

// valueTargets takes the values of arguments (ARGS: query parameters, form and multipart fields,
// JSON values) out of valueTargetRules. An API's arguments are data the services store or
// compare, never run: CRS's rules that flag a Unix or Windows command word, a shell, PHP,
// Node.js or DOM name anywhere in a value refuse prose and code snippets ("wget and curl are
// both download tools", "use ls -la | grep", "console.log(x)", "exec() runs a command",
// "$HOME", "/etc/app/config.yaml", "C:\Program Files", "The price is ${price}", "eval() is
// dangerous", "document.getElementById(x)", "res.status(404).json(...)", "^[a-z]{3,16}$",
// "The union will select its leaders"). On values they are replaced by api-rules.conf's 10260
// (a command in the shape it runs in: after a separator, with its arguments, or $IFS), 10262 (a
// code-running function called with code), 10292 (traversal, system files, wrappers), 10294
// (942190 with UNION directly before SELECT) and 10230 (template expressions); argument names,
// cookies, headers and the path keep the CRS rules. Per rule: 930120 (an OS file or folder
// name), 932230, 932235, 932250, 932260 (command words after ; | &), 932340 (a command name
// alone), 932160 (shell paths and variables), 933160 (PHP function call), 934100 (Node.js),
// 941390 (a JavaScript function name and a parenthesis), 941180 (DOM property names), 933150
// (PHP function names), 942151 (SQL function names: json(, count(), 932280 (brace expansion:
// regex quantifiers), 932130, 933135 (${...} and $name), 942190 (UNION and SELECT anywhere in
// one value). TestProseInValues and TestAPIRules hold both sides, TestAttackCorpus the share
// of the attack corpus refused.
//
// The exclusion is static (SecRuleUpdateTargetById, once, when the rules compile): the same
// exclusion made per request (ctl:ruleRemoveTargetById) costs Coraza a copy of every rule of
// the set per ctl, which profiling put at a tenth of a JSON request's CPU.
func valueTargets() string {
	var b strings.Builder
	for _, id := range valueTargetRules {
		fmt.Fprintf(&b, "SecRuleUpdateTargetById %d \"!ARGS\"\n", id)
	}
	return b.String()
}

// apiRules are decagon's own detections (api-rules.conf), included before anomalyEvaluationFile.
//
//go:embed api-rules.conf
var apiRules string

// setupFile is the CRS file that gives the settings their defaults (setup.go).
const setupFile = "REQUEST-901-INITIALIZATION.conf"

// anomalyEvaluationFile is the CRS file that blocks on the inbound anomaly score.
const anomalyEvaluationFile = "REQUEST-949-BLOCKING-EVALUATION.conf"

// Rule IDs of the requests' outcomes that are not CRS rules, as the log names them.
const (
	ruleIPBlock         = "decagon-ip-block"
	ruleIPAllow         = "decagon-ip-allow"
	ruleRateLimit       = "decagon-rate-based"
	ruleGroupCRS        = "OWASP-CRS-v4"
	ruleInspectionError = "decagon-inspection-error"
	ruleOversize        = "decagon-body-oversize"
)

// baseDirectives replaces Coraza's coraza.conf-recommended (its request part: the engine, the
// body processors and the body error rules); responses are not inspected, as AWS WAF does not
// inspect API Gateway's responses.
var baseDirectives = `
SecRuleEngine %s
# Coraza's experimental @rx pre-filter misses attacks (rx.go); this package's @rx has its own.
SecRxPreFilter Off
SecRequestBodyAccess On
SecRequestBodyLimit %d
SecRequestBodyInMemoryLimit %d
SecRequestBodyLimitAction ProcessPartial
SecRequestBodyJsonDepthLimit 1024
SecArgumentsLimit 1000
SecResponseBodyAccess Off
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" \
  "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
# A binary body (octet-stream, images, archives...) is inspected as it is (REQUEST_BODY), not
# parsed as a form: Coraza would otherwise parse it as URL-encoded (when CRS 901340 forces the
# body variable), turning the bytes of an upload into bogus arguments. Bodies without a
# content type or of a text type still get the URL-encoded parse, as the CRS expects.
SecRule REQUEST_HEADERS:Content-Type "!@rx ^(?:text/|multipart/|application/(?:x-www-form-urlencoded|[a-z0-9.+-]*(?:json|xml)))" \
  "id:200007,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=RAW"
# The operation of api/openapi.yaml decides (operations.go): a JSON operation's body is parsed
# as JSON whatever parameters its type carries; a file is not read, and CRS does not refuse its
# type (920420). A type the operation does not declare is read as AWS WAF, which runs before
# API Gateway, reads it: a form as its arguments, anything else as one text (bodytext.go); an
# attack in it is refused, a clean one gets the stage's 415, so CRS does not refuse the type
# (920420) nor its absence (920340, 920640) either.
SecRule &TX:` + jsonVar + ` "@eq 1" \
  "id:10100,phase:1,t:none,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule &TX:` + formVar + ` "@eq 1" \
  "id:10103,phase:1,t:none,pass,nolog,ctl:requestBodyProcessor=URLENCODED,ctl:ruleRemoveById=920420,ctl:ruleRemoveById=920340,ctl:ruleRemoveById=920640"
SecRule &TX:` + textVar + ` "@eq 1" \
  "id:10104,phase:1,t:none,pass,nolog,ctl:requestBodyProcessor=` + textProcessor + `,ctl:ruleRemoveById=920420,ctl:ruleRemoveById=920340,ctl:ruleRemoveById=920640"
SecRule &TX:` + skipBodyVar + ` "@eq 1" \
  "id:10101,phase:1,t:none,pass,nolog,ctl:requestBodyAccess=Off,ctl:ruleRemoveById=920420"
# A path that ends in an e-mail address or a .com domain (GET /upload/pat@example.com) is not a
# request for a DOS executable: 920440 (restricted extensions, whose list has .com, .sh and .ws,
# all top-level domains) does not read it. No route of the API serves a file by its path; a
# backup or key file name (.bak, .sql, .pem) is still refused.
SecRule REQUEST_BASENAME "@rx (?i)(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}|\.com)$" \
  "id:10105,phase:1,t:none,t:urlDecodeUni,pass,nolog,ctl:ruleRemoveById=920440"
SecRule URI_PARSE_ERROR "@eq 1" \
  "id:200009,phase:1,t:none,log,deny,status:403,msg:'URI failed to parse.'"
# A body cut at the inspection limit fails to parse as a whole: that is not held against it
# (its inspected prefix is still matched, as far as it parsed). Nor is malformed JSON sent to a
# JSON operation: the stage validates it against the document and answers 400 naming the
# error, as API Gateway does, and the services parse strictly, so nothing uninspected reaches
# them as valid JSON.
SecRule REQBODY_ERROR "!@eq 0" \
  "id:200002,phase:2,t:none,log,deny,status:403,msg:'Failed to parse request body.',logdata:'%%{reqbody_error_msg}',severity:2,chain"
  SecRule &TX:` + truncatedVar + ` "@eq 0" "t:none,chain"
  SecRule &TX:` + jsonVar + ` "@eq 0" "t:none"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
  "id:200003,phase:2,t:none,log,deny,status:403,msg:'Multipart request body failed strict validation.',chain"
  SecRule &TX:` + truncatedVar + ` "@eq 0" "t:none"
SecRule ARGUMENTS_LIMIT_REACHED "@eq 1" \
  "id:200004,phase:1,t:none,log,deny,status:403,msg:'Argument limit reached (GET/PATH args)'"
SecRule ARGUMENTS_LIMIT_REACHED "@eq 1" \
  "id:200005,phase:2,t:none,log,deny,status:403,msg:'Argument limit reached (POST args)'"
`

// crsSettings sets the CRS variables (read by REQUEST-901-INITIALIZATION, which keeps values
// already set). The allowed methods and content types are the API's: DELETE is an operation
// of api/openapi.yaml, and /upload takes raw binary bodies. The restricted headers are CRS's
// less Expect (920450): curl sends "Expect: 100-continue" for every body over 1 MiB, and AWS
// WAF does not refuse it.
const crsSettings = `
SecAction "id:900000,phase:1,pass,t:none,nolog,\
  setvar:tx.blocking_paranoia_level=%d,\
  setvar:tx.detection_paranoia_level=%d,\
  setvar:tx.inbound_anomaly_score_threshold=%d,\
  setvar:tx.outbound_anomaly_score_threshold=4,\
  setvar:tx.early_blocking=1,\
  setvar:tx.crs_skip_response_analysis=1,\
  setvar:'tx.allowed_methods=GET HEAD POST PUT PATCH DELETE OPTIONS',\
  setvar:'tx.restricted_headers_basic=/content-encoding/ /proxy/ /lock-token/ /content-range/ /if/ /x-http-method-override/ /x-http-method/ /x-method-override/ /x-middleware-subrequest/',\
  setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |text/xml| |application/xml| |application/soap+xml| |application/json| |application/octet-stream|'"
`

// directives returns the whole Coraza configuration for c: base, CRS setup, c's settings,
// exclusions and the CRS request rules.
func directives(c Config) (string, error) {
	engine := "On"
	if c.Mode == topology.ModeCount {
		engine = "DetectionOnly"
	}
	var b strings.Builder
	fmt.Fprintf(&b, baseDirectives, engine, c.maxInspect(), c.maxInspect())
	b.WriteString("Include @crs-setup.conf.example\n")
	fmt.Fprintf(&b, crsSettings, c.ParanoiaLevel, c.ParanoiaLevel, c.AnomalyThreshold)
	b.WriteString(c.directives)
	b.WriteString("\n")
	// Path exclusions: the middleware matches the path (as the router sees it) and sets a TX
	// variable; this rule, run first in phase 1, turns the rules off for the transaction.
	for i, e := range c.Exclusions {
		if len(e.Paths) == 0 {
			continue
		}
		fmt.Fprintf(&b, `SecRule &TX:%s%d "@eq 1" "id:%d,phase:1,pass,nolog,t:none`, exclusionVar, i, firstExclusionRuleID+i)
		for _, id := range e.IDs {
			fmt.Fprintf(&b, ",ctl:ruleRemoveById=%d", id)
		}
		b.WriteString("\"\n")
	}
	files, err := requestRuleFiles()
	if err != nil {
		return "", err
	}
	var folded []int
	for _, f := range files {
		if f == setupFile && !c.noPruning {
			action, ids, err := settingsFolding(b.String())
			if err != nil {
				return "", err
			}
			b.WriteString(action)
			folded = ids
		}
		if f == anomalyEvaluationFile {
			// decagon's own detections score into the same anomaly total, so they run
			// before the evaluation that blocks on it.
			b.WriteString(apiRules)
			b.WriteString("\n")
		}
		b.WriteString("Include @owasp_crs/" + f + "\n")
	}
	// Exclusions everywhere: SecRuleRemoveById must follow the rules it removes.
	var global []string
	for _, e := range c.Exclusions {
		if len(e.Paths) == 0 {
			for _, id := range e.IDs {
				global = append(global, strconv.Itoa(id))
			}
		}
	}
	if len(global) > 0 {
		b.WriteString("SecRuleRemoveById " + strings.Join(global, " ") + "\n")
	}
	if !c.noPruning {
		prune, err := pruneDirective(c.ParanoiaLevel, folded)
		if err != nil {
			return "", err
		}
		b.WriteString(prune)
	}
	if !c.noOperations && !c.crsValueTargets {
		b.WriteString(valueTargets())
	}
	return b.String(), nil
}

// requestRuleFiles lists the CRS rule files that inspect requests, in evaluation order.
func requestRuleFiles() ([]string, error) {
	entries, err := fs.ReadDir(coreruleset.FS, "@owasp_crs")
	if err != nil {
		return nil, fmt.Errorf("list CRS rules: %w", err)
	}
	var files []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "REQUEST-") && path.Ext(n) == ".conf" {
			files = append(files, n)
		}
	}
	slices.Sort(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("list CRS rules: no REQUEST-*.conf in the embedded rule set")
	}
	return files, nil
}
