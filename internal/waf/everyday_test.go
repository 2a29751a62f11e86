package waf

import (
	"fmt"
	"net/http"
	"testing"
)

// TestEverydayRequests: headers, query strings and JSON bodies of the kinds API clients send
// every day (analytics and load-balancer cookies, SDK and mobile user agents, search referers
// with utm parameters, filter and sort parameters, JSONP callbacks, nested JSON with prices,
// schemas, HTML, Markdown, regexes, Windows paths) pass the shipped configuration.
func TestEverydayRequests(t *testing.T) {
	hs := []map[string]string{
		{"Cookie": "_ga=GA1.1.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; _ga_ABC123=GS1.1.1700000000.1.1.1700000100.0.0.0"},
		{"Cookie": "session=eyJ1c2VyIjoiYWxpY2UiLCJleHAiOjE3MDAwMDAwMDB9.ZmFrZXNpZw; csrftoken=Xk2v9Qm4Lp0Rz8Ty; theme=dark"},
		{"Cookie": "AWSALB=abcDEF123+/xyz==; AWSALBCORS=abcDEF123+/xyz==; JSESSIONID=0A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D"},
		{"Cookie": "cart=%7B%22items%22%3A%5B1%2C2%5D%7D; lang=en-US; consent=true"},
		{"User-Agent": "okhttp/4.12.0"}, {"User-Agent": "axios/1.6.7"}, {"User-Agent": "PostmanRuntime/7.36.0"},
		{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"},
		{"User-Agent": "Dart/3.2 (dart:io)"}, {"User-Agent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)"},
		{"User-Agent": "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.47.7"},
		{"User-Agent": "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11"},
		{"Referer": "https://www.google.com/search?q=decagon+api+docs&oq=decagon&aqs=chrome..69i57j0i512l9.2345j0j7&sourceid=chrome&ie=UTF-8"},
		{"Referer": "https://app.example.com/dashboard?utm_source=newsletter&utm_medium=email&utm_campaign=launch_2026&utm_content=cta%20button"},
		{"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}, {"If-None-Match": `W/"5e15153d-120f"`}, {"If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
		{"Accept": "application/json, text/plain, */*"}, {"Accept-Encoding": "gzip, deflate, br, zstd"}, {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
		{"X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678"}, {"X-Api-Key": "AKIAIOSFODNN7EXAMPLE"}, {"X-Correlation-Id": "3f2a1b9c-1234-4d5e-8f90-abcdef012345"},
		{"Cache-Control": "no-cache"}, {"Origin": "https://app.example.com"}, {"Range": "bytes=0-1023"},
		{"Content-Type": "application/json; charset=UTF-8"},
	}
	qs := []string{
		"/test?sort=-created_at&filter%5Bname%5D=foo&fields=a,b", "/test?q=O%27Brien&page=2", "/test?from=2026-01-01T00:00:00Z&to=2026-12-31T23:59:59%2B01:00",
		"/test?ids=1,2,3&include=owner,tags", "/test?callback=jQuery3710123_1700000000", "/test?search=%22exact+phrase%22+-excluded",
		"/test?q=select+a+plan&order=asc", "/test?email=pat%2Btag%40example.com", "/test?redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback%3Fstate%3Dxyz",
		"/test?price%5Bgte%5D=10&price%5Blte%5D=100", "/test?tags%5B%5D=a&tags%5B%5D=b", "/test?q=C%2B%2B+vs+C%23", "/test?path=%2Fdocs%2Fguide%2Fintro.md",
		"/test?q=100%25+cotton", "/test?q=rock+%26+roll", "/test?q=1%3D1+is+true", "/test?lang=zh-Hant&q=%E4%BD%A0%E5%A5%BD",
		"/test?q=%3Cb%3Ebold%3C%2Fb%3E", "/test?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123_-XYZ", "/test?q=drop+shipping+rates",
		"/test?q=how+to+use+sudo", "/test?q=etc%2Fhosts+file+format", "/test?version=1.2.3-beta%2Bbuild.5", "/test?q=%F0%9F%98%80+happy",
		"/test?q=--verbose+flag", "/test?q=a%7Cb", "/test?q=node+js+require", "/test?q=what+is+%24PATH", "/test?q=union+station+select+train",
		"/test?q=or+1", "/test?q=Tom%27s+%26+Jerry%27s", "/test?filter=status+eq+%27active%27", "/test?q=it%27s+--+great",
	}
	bodies := []string{
		`{"name":"order-1234","data":{"items":[{"sku":"A-1","qty":2,"price":9.99}],"total":19.98,"currency":"EUR","paid":true,"coupon":null}}`,
		`{"name":"profile","data":{"bio":"I'm a developer who loves Go, Rust & SQL. Previously at O'Reilly.","website":"https://pat.dev","twitter":"@pat"}}`,
		`{"name":"query","data":{"filter":{"status":{"in":["active","pending"]},"age":{"gte":18}},"sort":[{"field":"created_at","order":"desc"}]}}`,
		`{"name":"schema","data":{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://example.com/x","type":"object"}}`,
		`{"name":"html","data":{"body":"<p>Hello <strong>world</strong></p><ul><li>one</li></ul>"}}`,
		`{"name":"md","data":{"body":"# Notes\n\n- [ ] todo\n- [x] done\n\n` + "```go\\nfmt.Println(\\\"hi\\\")\\n```" + `"}}`,
		`{"name":"addr","data":{"street":"221B Baker St.","city":"London","zip":"NW1 6XE","phone":"+44 20 7224 3688"}}`,
		`{"name":"dates","data":{"start":"2026-11-29T15:04:05.999Z","end":"2026-12-01","tz":"Europe/Paris","cron":"*/5 * * * *"}}`,
		`{"name":"sql talk","data":{"note":"Our DBA said: always use prepared statements; never concatenate strings into SELECT queries."}}`,
		`{"name":"shell talk","data":{"note":"Run make test, then git push origin main; CI will do the rest."}}`,
		`{"name":"path","data":{"file":"src/components/App.tsx","line":42,"glob":"**/*.go"}}`,
		`{"name":"regex","data":{"pattern":"^\\d{3}-\\d{4}$","flags":"gi"}}`,
		`{"name":"emoji","data":{"reaction":"👍🏽","status":"🚀 shipped"}}`,
		`{"name":"numbers","data":{"big":12345678901234567890,"neg":-0.5,"exp":1e-7}}`,
		`{"name":"urls","data":{"links":["https://example.com/a?b=1&c=2","mailto:x@example.com","ftp://example.com/f.txt"]}}`,
		`{"name":"json in json","data":{"payload":"{\"a\":1,\"b\":[true,false]}"}}`,
		`{"name":"windows","data":{"path":"C:\\Users\\Pat\\AppData\\Local\\Temp"}}`,
		`{"name":"quotes","data":{"q":"He said \"it's 5 o'clock\" -- then left; she replied 'ok'."}}`,
		`{"name":"xml text","data":{"xml":"<note><to>Tove</to><from>Jani</from></note>"}}`,
		`{"name":"css","data":{"style":"color: red; background: url(/img/bg.png); font-family: 'Helvetica Neue', sans-serif;"}}`,
	}
	var reqs []request
	for _, h := range hs {
		h["Authorization"] = corpusToken
		reqs = append(reqs, request{target: "/test?limit=20", header: h})
	}
	for _, q := range qs {
		reqs = append(reqs, request{target: q, header: map[string]string{"Authorization": corpusToken}})
	}
	for _, b := range bodies {
		reqs = append(reqs, request{method: "POST", target: "/test", contentType: "application/json", body: b, header: map[string]string{"Authorization": corpusToken}})
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for i, rq := range reqs {
		rq.remote = fmt.Sprintf("192.0.2.%d:1", i%250)
		if rec := s.do(t, rq); rec.Code != http.StatusOK {
			recs := s.logs.records(t)
			t.Errorf("%s %s %v %.80s: status %d: %v", methodOf(rq), rq.target, rq.header, rq.body, rec.Code, recs[len(recs)-1]["reason"])
		}
	}
}
