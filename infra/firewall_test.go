package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// aclRules returns the web ACL's rules by name, and their names in priority order.
func aclRules(t *testing.T, s *synthesized) (map[string]map[string]any, []string) {
	t.Helper()
	_, acl := s.one(t, "AWS::WAFv2::WebACL")
	byName := map[string]map[string]any{}
	var order []string
	rules := acl["Rules"].([]any)
	slices.SortFunc(rules, func(a, b any) int { return int(get(a, "Priority").(float64) - get(b, "Priority").(float64)) })
	for _, r := range rules {
		n := get(r, "Name").(string)
		byName[n] = r.(map[string]any)
		order = append(order, n)
	}
	return byName, order
}

// regexIn finds the URI path regex of the statement at path (a method-and-path statement).
func regexIn(t *testing.T, st any) *regexp.Regexp {
	t.Helper()
	s := js(st)
	m := regexp.MustCompile(`"RegexString":"((?:[^"\\]|\\.)*)"`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no regex in %s", s)
	}
	var raw string
	if err := json.Unmarshal([]byte(`"`+m[1]+`"`), &raw); err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(raw)
}

// Issue 12, "the AWS web ACL agrees": the managed body rules do not block upload bodies (the
// local WAF does not inspect them), and block everywhere else.
func TestFirewallUploadBodies(t *testing.T) {
	s := synth(t, "v2-dev")
	rules, order := aclRules(t, s)
	r, ok := rules["ManagedBodyRules"]
	if !ok {
		t.Fatalf("no ManagedBodyRules rule among %v", order)
	}
	for _, g := range managedGroups {
		if slices.Index(order, g.name) > slices.Index(order, "ManagedBodyRules") {
			t.Errorf("%s runs after ManagedBodyRules: its labels would not be there yet", g.name)
		}
	}
	if get(r, "Action", "Block", "CustomResponse", "ResponseCode") != 403.0 {
		t.Errorf("ManagedBodyRules action %s, want a 403 block", js(r["Action"]))
	}
	var labels []string
	for _, st := range get(r, "Statement", "AndStatement", "Statements", 0, "OrStatement", "Statements").([]any) {
		labels = append(labels, get(st, "LabelMatchStatement", "Key").(string))
	}
	for _, want := range []string{
		"awswaf:managed:aws:core-rule-set:SizeRestrictions_Body",
		"awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body",
		"awswaf:managed:aws:sql-database:SQLi_Body",
		"awswaf:managed:aws:sql-database:SQLiExtendedPatterns_Body",
	} {
		if !slices.Contains(labels, want) {
			t.Errorf("ManagedBodyRules does not block on %s (labels %v)", want, labels)
		}
	}
	not := get(r, "Statement", "AndStatement", "Statements", 1, "NotStatement", "Statement")
	if !strings.Contains(js(not), `"SearchString":"POST"`) {
		t.Errorf("the upload exemption is not limited to POST: %s", js(not))
	}
	re := regexIn(t, not)
	for path, exempt := range map[string]bool{
		"/upload": true, "/Test/upload": true,
		"/upload/presign": false, "/Test/upload/presign": false, "/test": false, "/upload/x/complete": false, "/uploadx": false,
	} {
		if re.MatchString(path) != exempt {
			t.Errorf("POST %s exempt from the body rules = %v, want %v", path, !exempt, exempt)
		}
	}
}

// Oversize handling: a JSON body past the inspection limit is refused (size rule with
// oversize handling MATCH), before the managed groups; file bodies are not concerned.
func TestFirewallJSONOversize(t *testing.T) {
	for _, config := range []string{"v2-dev", "v2-prod"} {
		t.Run(config, func(t *testing.T) {
			s := synth(t, config)
			rules, order := aclRules(t, s)
			r, ok := rules["JsonBodyTooLarge"]
			if !ok {
				t.Fatalf("no JsonBodyTooLarge rule among %v", order)
			}
			if slices.Index(order, "JsonBodyTooLarge") > slices.Index(order, "AWSManagedRulesCommonRuleSet") {
				t.Error("JsonBodyTooLarge runs after the managed groups")
			}
			size := get(r, "Statement", "AndStatement", "Statements", 1, "SizeConstraintStatement")
			w := s.stacks.App.Config.Topology.WAF
			limit := inspectionLimit(max(w.RequestBodyLimit, w.Body.JSON.InspectLimit))
			if limit != 64<<10 {
				t.Errorf("inspection limit %d: the shipped JSON scope (%d bytes) wants AWS WAF's most, 64 KiB", limit, w.Body.JSON.InspectLimit)
			}
			if get(size, "FieldToMatch", "Body", "OversizeHandling") != "MATCH" || get(size, "ComparisonOperator") != "GT" || get(size, "Size") != float64(limit) {
				t.Errorf("size rule %s, want body > %d with oversize handling MATCH", js(size), limit)
			}
			_, acl := s.one(t, "AWS::WAFv2::WebACL")
			if got := get(acl, "AssociationConfig", "RequestBody", "API_GATEWAY", "DefaultSizeInspectionLimit"); got != "KB_"+js(limit>>10) {
				t.Errorf("inspection limit %v, the size rule %d", got, limit)
			}
			if get(r, "Action", "Block", "CustomResponse", "ResponseCode") != 413.0 {
				t.Errorf("action %s, want a 413 block", js(r["Action"]))
			}
			re := regexIn(t, get(r, "Statement", "AndStatement", "Statements", 0))
			for path, isJSON := range map[string]bool{"/test": true, "/Test/test": true, "/upload/presign": true, "/Test/upload/presign": true, "/upload": false, "/test/x": false} {
				if re.MatchString(path) != isJSON {
					t.Errorf("POST %s treated as a JSON operation = %v, want %v", path, !isJSON, isJSON)
				}
			}
		})
	}
}

// The WAF's own answers are problems with the status they are sent with.
func TestFirewallResponseBodies(t *testing.T) {
	s := synth(t, "v2-dev")
	_, acl := s.one(t, "AWS::WAFv2::WebACL")
	bodies := acl["CustomResponseBodies"].(map[string]any)
	rules, _ := aclRules(t, s)
	used := 0
	for name, r := range rules {
		key, _ := get(r, "Action", "Block", "CustomResponse", "CustomResponseBodyKey").(string)
		if key == "" {
			continue
		}
		used++
		status := get(r, "Action", "Block", "CustomResponse", "ResponseCode").(float64)
		var p map[string]any
		if err := json.Unmarshal([]byte(get(bodies, key, "Content").(string)), &p); err != nil {
			t.Fatalf("%s: body %s is not JSON: %v", name, key, err)
		}
		if p["status"] != status || p["title"] != http.StatusText(int(status)) || p["type"] != "about:blank" {
			t.Errorf("%s answers %v with %s", name, status, js(p))
		}
	}
	if used < 3 {
		t.Errorf("%d rules with a custom response, want the rate, size and body rules", used)
	}
}

func TestInspectionLimit(t *testing.T) {
	for in, want := range map[int]int{0: 16 << 10, 1: 16 << 10, 16 << 10: 16 << 10, 16<<10 + 1: 32 << 10, 48 << 10: 48 << 10, 64 << 10: 64 << 10, 1 << 20: 64 << 10} {
		if got := inspectionLimit(in); got != want {
			t.Errorf("inspectionLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

// Without an image digest only the registry stack is synthesized: `make deploy` deploys it,
// pushes the image, then deploys the app pinned to the digest.
func TestRegistryOnly(t *testing.T) {
	s := synth(t, "registry-only")
	if s.stacks.App != nil {
		t.Fatal("the app stack was synthesized without an image digest")
	}
	has(t, s.reg, "AWS::ECR::Repository", map[string]any{"ImageTagMutability": "IMMUTABLE"})
}
