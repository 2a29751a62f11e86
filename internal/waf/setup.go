package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// The CRS's REQUEST-901 gives each of its settings a default, one rule each, on every request:
//
//	SecRule &TX:reporting_level "@eq 0" "id:901111,phase:1,pass,nolog,...,setvar:'tx.reporting_level=4'"
//
// A setting the configuration set before (decagon's 900000, the CRS setup's 900990) keeps its
// rule. Any other is set whatever the request, so these rules are folded into one SecAction
// run just before REQUEST-901 (constantSettingsID), and removed: a score of them cost every
// request a score of rule evaluations. The settings every request ends phase 1 with are the
// same (TestSetupFolding).
const constantSettingsID = 900010

var (
	defaultRule = regexp.MustCompile(`^SecRule &TX:([a-z_0-9]+) "@eq 0" \\\n\s*"id:(\d+),\s*\\\n\s*phase:1,`)
	setvarTX    = regexp.MustCompile(`setvar:'?tx\.([a-z_0-9]+)=([^',"]*)`)
)

// settingsFolding returns the SecAction that sets the defaults of REQUEST-901 that nothing in
// before (the configuration up to REQUEST-901, and the CRS setup it includes) may set, and the
// IDs of the rules it replaces.
func settingsFolding(before string) (action string, ids []int, err error) {
	setup, err := fs.ReadFile(coreruleset.FS, "@crs-setup.conf.example")
	if err != nil {
		return "", nil, fmt.Errorf("read CRS setup: %w", err)
	}
	set := map[string]bool{}
	for _, text := range []string{before, string(setup)} {
		for _, line := range strings.Split(strings.ToLower(text), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue // the CRS setup's examples are comments
			}
			for _, m := range setvarTX.FindAllStringSubmatch(line, -1) {
				set[m[1]] = true
			}
		}
	}
	blocks, err := crsDirectives("@owasp_crs/" + setupFile)
	if err != nil {
		return "", nil, err
	}
	var setvars []string
	for _, block := range blocks {
		m := defaultRule.FindStringSubmatch(block)
		if m == nil || set[m[1]] || strings.Contains(block, "chain") {
			continue
		}
		sv := setvarTX.FindAllStringSubmatch(block, -1)
		if len(sv) != 1 || sv[0][1] != m[1] || strings.Contains(sv[0][2], "%{") ||
			!strings.Contains(block, "pass,") {
			continue // not a plain default: left as it is
		}
		id, _ := strconv.Atoi(m[2])
		ids = append(ids, id)
		setvars = append(setvars, "setvar:'tx."+m[1]+"="+sv[0][2]+"'")
	}
	if len(ids) == 0 {
		return "", nil, nil
	}
	return fmt.Sprintf("SecAction \"id:%d,phase:1,pass,nolog,t:none,%s\"\n", constantSettingsID, strings.Join(setvars, ",")), ids, nil
}
