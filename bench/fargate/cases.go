package main

import (
	"fmt"
	"strings"
)

// benchCase is one request the harness measures: the service that answers it and the wrk Lua
// script that sends it (every script sends the same Authorization header; the minimal handler
// ignores it).
type benchCase struct {
	name    string
	title   string
	service string // the decagon.yaml service: `decagon serve <service>`
	script  func(token, prefix string, ids []string) string
}

var cases = []benchCase{
	{"get", "GET /test/{id}", "tests", func(token, _ string, ids []string) string {
		return authHeader(token) + fmt.Sprintf("local ids = {%s}\n", luaList(ids)) + `
request = function()
  return wrk.format("GET", "/test/" .. ids[math.random(#ids)])
end
`
	}},
	{"list", "GET /test (page of 20)", "tests", func(token, _ string, _ []string) string {
		return authHeader(token) + `wrk.path = "/test?limit=20"
`
	}},
	{"post", "POST /test", "tests", func(token, _ string, _ []string) string {
		return authHeader(token) + postBody
	}},
	{"post-idem", "POST /test + Idempotency-Key", "tests", func(token, prefix string, _ []string) string {
		// A fresh key per request (thread id and counter under a per-run prefix): the first
		// use of a key, which stores the key and the record in one transaction.
		return authHeader(token) + postBody + fmt.Sprintf(`
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "%s-" .. tostring(tid) .. "-" .. n
  return wrk.format()
end
`, prefix)
	}},
	{"upload", "POST /upload (1 MiB direct)", "uploads", func(token, _ string, _ []string) string {
		// 1 MiB that does not compress or sniff as text: a 4 KiB pseudo-random block repeated.
		return authHeader(token) + `wrk.method = "POST"
wrk.path = "/upload?filename=bench.bin"
wrk.headers["Content-Type"] = "application/octet-stream"
math.randomseed(7)
local block = {}
for i = 1, 4096 do block[i] = string.char(math.random(0, 255)) end
wrk.body = string.rep(table.concat(block), 256)
`
	}},
}

const postBody = `wrk.method = "POST"
wrk.path = "/test"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"bench","data":{"k":1,"s":"fargate"}}'
`

func authHeader(token string) string {
	return fmt.Sprintf("wrk.headers[\"Authorization\"] = \"Bearer %s\"\n", token)
}

func luaList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = `"` + id + `"`
	}
	return strings.Join(q, ",")
}

func selectCases(list string) ([]benchCase, error) {
	if list == "" || list == "all" {
		return cases, nil
	}
	var out []benchCase
	for _, name := range strings.Split(list, ",") {
		found := false
		for _, c := range cases {
			if c.name == strings.TrimSpace(name) {
				out, found = append(out, c), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown case %q (get, list, post, post-idem, upload)", name)
		}
	}
	return out, nil
}
