package edge

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/idp"
)

func TestForwardedHeaders(t *testing.T) {
	loopback, err := ParseTrustedProxies("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ParseTrustedProxies("10.0.0.0/8")
	cases := []struct {
		name      string
		trusted   TrustedProxies
		headers   []string
		wantXFF   string
		wantIP    string
		wantProto string
		wantHost  string // "" means the edge's own host
	}{
		{"no header, untrusted", nil, nil, "127.0.0.1", "127.0.0.1", "http", ""},
		{"client header dropped from untrusted peer", other,
			[]string{"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"},
			"127.0.0.1", "127.0.0.1", "http", ""},
		{"kept from trusted peer", loopback,
			[]string{"X-Forwarded-For", "203.0.113.7, 10.1.2.3", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example"},
			"203.0.113.7, 10.1.2.3, 127.0.0.1", "10.1.2.3", "https", "api.example"},
		{"client is right-most untrusted", loopback,
			[]string{"X-Forwarded-For", "198.51.100.1, 203.0.113.7, 127.0.0.5"},
			"198.51.100.1, 203.0.113.7, 127.0.0.5, 127.0.0.1", "203.0.113.7", "http", ""},
		{"garbage list dropped even from trusted peer", loopback,
			[]string{"X-Forwarded-For", "203.0.113.7, <script>"},
			"127.0.0.1", "127.0.0.1", "http", ""},
		{"garbage left of the client ignored", loopback,
			[]string{"X-Forwarded-For", "<script>, 203.0.113.7"},
			"203.0.113.7, 127.0.0.1", "203.0.113.7", "http", ""},
		{"bad proto ignored", loopback,
			[]string{"X-Forwarded-Proto", "gopher"},
			"127.0.0.1", "127.0.0.1", "http", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 1, testTopology, func(c *Config) { c.TrustedProxies = tc.trusted })
			r := h.do("GET", "/health-check", "", tc.headers...)
			e := r.echo(t)
			got := strings.Join(e.Header["X-Forwarded-For"], ",")
			if got != tc.wantXFF {
				t.Fatalf("X-Forwarded-For %q, want %q", got, tc.wantXFF)
			}
			host := tc.wantHost
			if host == "" {
				host = strings.TrimPrefix(h.url, "http://")
			}
			if p := e.Header["X-Forwarded-Proto"]; len(p) != 1 || p[0] != tc.wantProto {
				t.Fatalf("X-Forwarded-Proto %q", p)
			}
			if hh := e.Header["X-Forwarded-Host"]; len(hh) != 1 || hh[0] != host {
				t.Fatalf("X-Forwarded-Host %q, want %q", hh, host)
			}
			if ip := h.logFor(r.header.Get("X-Request-Id"))["ip"]; ip != tc.wantIP {
				t.Fatalf("access log ip %v, want %s", ip, tc.wantIP)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	tok := "Bearer " + mint(t, idp.MintOptions{})
	r := h.do("GET", "/Test/test/"+uuid1+"?x=1", "", "Authorization", tok, "X-Request-Id", "log-test-1")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	line := h.logFor("log-test-1")
	want := map[string]any{
		"requestId": "log-test-1", "ip": "127.0.0.1", "httpMethod": "GET",
		"resourcePath": "/test/{test_id}", "path": "/Test/test/" + uuid1, "protocol": "HTTP/1.1",
		"status": float64(200), "responseLength": float64(len(r.body)), "authorizerError": "",
		"target": h.backends[0].addr,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %#v, want %#v", k, line[k], v)
		}
	}
	if !regexp.MustCompile(`^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$`).MatchString(line["requestTime"].(string)) {
		t.Errorf("requestTime %q", line["requestTime"])
	}
	lat, _ := line["latency"].(float64)
	integ, _ := line["integrationLatency"].(float64)
	if lat <= 0 || integ <= 0 || integ > lat {
		t.Errorf("latency %v integrationLatency %v", line["latency"], line["integrationLatency"])
	}

	h.do("GET", "/test", "", "X-Request-Id", "log-test-2")
	line = h.logFor("log-test-2")
	if line["status"] != float64(401) || line["authorizerError"] == "" || line["integrationLatency"] != nil || line["target"] != "" {
		t.Errorf("refused request logged as %v", line)
	}
}

func TestForwardedHops(t *testing.T) {
	cases := []struct {
		in   []string
		want string // entries, "!" for a malformed one
	}{
		{[]string{"1.2.3.4"}, "1.2.3.4"},
		{[]string{"1.2.3.4, 5.6.7.8", "9.9.9.9"}, "1.2.3.4 5.6.7.8 9.9.9.9"},
		{[]string{"[2001:db8::1]:443, 2001:db8::2, 1.2.3.4:80"}, "2001:db8::1 2001:db8::2 1.2.3.4"},
		{[]string{"::ffff:1.2.3.4"}, "1.2.3.4"},
		{[]string{" , 1.2.3.4 ,"}, "1.2.3.4"},
		{[]string{"unknown"}, "!"},
		{[]string{"1.2.3.4, fe80::1%eth0"}, "1.2.3.4 !"},
		{[]string{"x, 127.0.0.66"}, "! 127.0.0.66"},
		{[]string{strings.Repeat("1.1.1.1,", 40) + "9.9.9.9"}, strings.Repeat("1.1.1.1 ", 31) + "9.9.9.9"},
	}
	for _, tc := range cases {
		var got []string
		for _, h := range forwardedHops(tc.in) {
			if !h.ok {
				got = append(got, "!")
				continue
			}
			got = append(got, h.addr.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, strings.Join(got, " "), tc.want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tp, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7, 2001:db8::/32, 10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.9.9.9": true, "192.168.1.7": true, "192.168.1.8": false, "2001:db8::5": true, "::ffff:10.0.0.1": true, "11.0.0.1": false} {
		if got := tp.Contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %v", addr, got)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "1.2.3.4/x"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestClientIP walks X-Forwarded-For from the right, as issue 11's review asked: behind a
// trusted proxy, the first entry that is not a trusted proxy is the client, and a malformed
// entry never lets the client pose as the proxy (which lifted blocks and rate limits).
func TestClientIP(t *testing.T) {
	tp, err := ParseTrustedProxies("127.0.0.1/32, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff  string
		wantClient, want string // want is the X-Forwarded-For sent on
	}{
		{"no header", "127.0.0.1:1", "", "127.0.0.1", "127.0.0.1"},
		{"one client", "127.0.0.1:1", "9.9.9.9", "9.9.9.9", "9.9.9.9, 127.0.0.1"},
		{"garbage left of the client", "127.0.0.1:1", "x, 127.0.0.66", "127.0.0.66", "127.0.0.66, 127.0.0.1"},
		{"unknown left of the client", "127.0.0.1:1", "unknown, 9.9.9.9", "9.9.9.9", "9.9.9.9, 127.0.0.1"},
		{"forged left part ignored", "127.0.0.1:1", "1.1.1.1, 9.9.9.9", "9.9.9.9", "1.1.1.1, 9.9.9.9, 127.0.0.1"},
		{"trusted hops skipped", "127.0.0.1:1", "9.9.9.9, 10.0.0.7, 10.0.0.8", "9.9.9.9", "9.9.9.9, 10.0.0.7, 10.0.0.8, 127.0.0.1"},
		{"garbage in the client's place: the proxy", "127.0.0.1:1", "9.9.9.9, unknown", "127.0.0.1", "127.0.0.1"},
		{"garbage behind a trusted hop: that hop", "127.0.0.1:1", "9.9.9.9, unknown, 10.0.0.7", "10.0.0.7", "10.0.0.7, 127.0.0.1"},
		{"every hop trusted: the left-most", "127.0.0.1:1", "10.0.0.7, 10.0.0.8", "10.0.0.7", "10.0.0.7, 10.0.0.8, 127.0.0.1"},
		{"ports and brackets", "127.0.0.1:1", "[2001:db8::1]:443, 9.9.9.9:80", "9.9.9.9", "2001:db8::1, 9.9.9.9, 127.0.0.1"},
		{"long forged prefix", "127.0.0.1:1", strings.Repeat("1.1.1.1, ", 100) + "9.9.9.9", "9.9.9.9", strings.Repeat("1.1.1.1, ", 31) + "9.9.9.9, 127.0.0.1"},
		{"untrusted peer's header dropped", "192.0.2.1:1", "9.9.9.9", "192.0.2.1", "192.0.2.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var xff []string
			if tc.xff != "" {
				xff = []string{tc.xff}
			}
			header, client := tp.forwardedFor(tc.peer, xff)
			if client != tc.wantClient || header != tc.want {
				t.Fatalf("forwardedFor(%q) = %q, %q; want %q, %q", tc.xff, header, client, tc.want, tc.wantClient)
			}
		})
	}
}

// FuzzForwardedFor: any header list from an untrusted or trusted peer yields a header made of
// addresses only, ending with the peer, and a client that is the peer or one of those
// addresses; from a trusted peer, a well-formed untrusted right-most entry is the client
// whatever lies to its left; from an untrusted peer, the peer is.
func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 5.6.7.8", "[::1]:80, 10.0.0.1", "unknown", "", ",,,",
		"::ffff:127.0.0.1", "1.2.3.4\r\nX: y", "x, 127.0.0.66", "unknown, 9.9.9.9", "9.9.9.9, unknown"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	trusted, _ := ParseTrustedProxies("127.0.0.0/8, 10.0.0.0/8")
	f.Fuzz(func(t *testing.T, xff string, trust bool) {
		tp := TrustedProxies(nil)
		if trust {
			tp = trusted
		}
		header, client := tp.forwardedFor("127.0.0.1:5555", []string{xff})
		if h2, c2 := tp.forwardedFor("127.0.0.1:5555", []string{xff}); h2 != header || c2 != client {
			t.Fatalf("same input, other answer: %q %q then %q %q", header, client, h2, c2)
		}
		if !strings.HasSuffix(header, "127.0.0.1") {
			t.Fatalf("header %q does not end with the peer", header)
		}
		parts := strings.Split(header, ", ")
		for _, part := range parts {
			if _, err := netip.ParseAddr(part); err != nil {
				t.Fatalf("header %q holds %q", header, part)
			}
		}
		if _, err := netip.ParseAddr(client); err != nil {
			t.Fatalf("client %q", client)
		}
		if !slices.Contains(parts, client) {
			t.Fatalf("client %q is neither the peer nor a hop of %q", client, header)
		}
		if !trust {
			if client != "127.0.0.1" || header != "127.0.0.1" {
				t.Fatalf("untrusted peer: header %q client %q", header, client)
			}
			return
		}
		// The right-most entry, read independently of the edge's parser: when it is a plain
		// address outside the trusted networks, it is the client, whatever lies to its left.
		entries := strings.Split(xff, ",")
		last := ""
		for i := len(entries) - 1; i >= 0 && last == ""; i-- {
			last = strings.TrimSpace(entries[i])
		}
		if a, err := netip.ParseAddr(last); err == nil && a.Zone() == "" && !tp.Contains(a) {
			if client != a.Unmap().String() {
				t.Fatalf("xff %q: client %q, want the right-most untrusted entry %s", xff, client, a.Unmap())
			}
		}
	})
}

// FuzzRoute holds the router to an independent reading of the document: each path template
// becomes a regular expression (a parameter is one non-empty segment, the rest literal). A
// clean path is routed exactly when some template matches it, to a template that matches it,
// preferring literal segments as OpenAPI asks; the same path always gets the same answer; and
// a path that is not clean is never routed.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{"/test", "/test/" + uuid1, "/Test/test", "/test/", "//", "/test/..", "/test/%2F",
		"", "/", "/upload/presign", "/upload/" + uuid1 + "/complete", "/upload/_blob/a/b", "/health-check"} {
		f.Add(s)
	}
	h := newHarness(f, 0, testTopology)
	doc, err := api.Load()
	if err != nil {
		f.Fatal(err)
	}
	type template struct {
		path     string
		re       *regexp.Regexp
		literals int // literal segments: the more, the more specific
	}
	var templates []template
	for path := range doc.Paths.Map() {
		expr, literals := "^", 0
		for seg := range strings.SplitSeq(strings.TrimPrefix(path, "/"), "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				expr += "/[^/]+"
				continue
			}
			expr += "/" + regexp.QuoteMeta(seg)
			literals++
		}
		templates = append(templates, template{path, regexp.MustCompile(expr + "$"), literals})
	}
	f.Fuzz(func(t *testing.T, path string) {
		e := h.edge.router.match(path)
		if e2 := h.edge.router.match(path); e2 != e {
			t.Fatalf("%q routed twice, two answers", path)
		}
		if !cleanPath(path) {
			return // the edge refuses these before routing (404)
		}
		var matching []template
		for _, tp := range templates {
			if tp.re.MatchString(path) {
				matching = append(matching, tp)
			}
		}
		if e == nil {
			if len(matching) > 0 {
				t.Fatalf("%q not routed, but %s matches it", path, matching[0].path)
			}
			return
		}
		var op *operation
		for _, o := range e.methods {
			op = o
		}
		var routed *template
		for i := range matching {
			if matching[i].path == op.path {
				routed = &matching[i]
			}
		}
		if routed == nil {
			t.Fatalf("%q routed to %s, which does not match it", path, op.path)
		}
		for _, tp := range matching {
			if tp.literals > routed.literals {
				t.Fatalf("%q routed to %s, but the more specific %s matches too", path, op.path, tp.path)
			}
		}
		_ = e.pathParams(path)
	})
}
