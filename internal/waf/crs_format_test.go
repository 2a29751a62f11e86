package waf

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The CRS regression tests are go-ftw YAML files: per rule, a list of tests, each a list of
// stages with an input (the request) and an output (what the WAF must log or answer). These
// types hold the part of the format the CRS v4 corpus uses.

type ftwFile struct {
	RuleID int       `yaml:"rule_id"`
	Tests  []ftwTest `yaml:"tests"`
}

type ftwTest struct {
	TestID int        `yaml:"test_id"`
	Desc   string     `yaml:"desc"`
	Stages []ftwStage `yaml:"stages"`
}

type ftwStage struct {
	Input  ftwInput  `yaml:"input"`
	Output ftwOutput `yaml:"output"`
	// Stage is the older format's wrapper around input and output.
	Stage *ftwStage `yaml:"stage"`
}

type ftwInput struct {
	Method              *string    `yaml:"method"`
	URI                 *string    `yaml:"uri"`
	Version             *string    `yaml:"version"`
	Headers             ftwHeaders `yaml:"headers"`
	Data                *string    `yaml:"data"`
	EncodedRequest      string     `yaml:"encoded_request"`
	AutocompleteHeaders *bool      `yaml:"autocomplete_headers"`
}

type ftwOutput struct {
	Status      int  `yaml:"status"`
	ExpectError bool `yaml:"expect_error"`
	Log         struct {
		ExpectIDs    []int  `yaml:"expect_ids"`
		NoExpectIDs  []int  `yaml:"no_expect_ids"`
		MatchRegex   string `yaml:"match_regex"`
		NoMatchRegex string `yaml:"no_match_regex"`
	} `yaml:"log"`
}

// ftwHeaders keeps the headers in the order the file writes them.
type ftwHeaders [][2]string

func (h *ftwHeaders) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("headers: line %d: not a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		*h = append(*h, [2]string{n.Content[i].Value, n.Content[i+1].Value})
	}
	return nil
}

func (h ftwHeaders) has(name string) bool {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return true
		}
	}
	return false
}

// raw returns the bytes of the HTTP/1 request that in describes, as go-ftw sends them:
// encoded_request verbatim, else the request line, the headers in order (with Content-Length
// and Connection: close added unless autocomplete_headers is false) and the data.
func (in ftwInput) raw() ([]byte, error) {
	if in.EncodedRequest != "" {
		return base64.StdEncoding.DecodeString(in.EncodedRequest)
	}
	method, uri, version := "GET", "/", "HTTP/1.1"
	if in.Method != nil {
		method = *in.Method
	}
	if in.URI != nil {
		uri = *in.URI
	}
	if in.Version != nil {
		version = *in.Version
	}
	var b strings.Builder
	b.WriteString(method + " " + uri)
	if version != "" {
		b.WriteString(" " + version)
	}
	b.WriteString("\r\n")
	headers := in.Headers
	data := ""
	if in.Data != nil {
		data = expandTemplate(*in.Data)
	}
	if in.AutocompleteHeaders == nil || *in.AutocompleteHeaders {
		if data != "" && !headers.has("Content-Length") && !headers.has("Transfer-Encoding") {
			headers = append(headers, [2]string{"Content-Length", fmt.Sprint(len(data))})
		}
		if !headers.has("Connection") {
			headers = append(headers, [2]string{"Connection", "close"})
		}
	}
	for _, kv := range headers {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(data)
	return []byte(b.String()), nil
}

// repeatTemplate is the one go-ftw template function the corpus uses: {{ "1" | repeat 64200 }}.
var repeatTemplate = regexp.MustCompile(`\{\{\s*"([^"]*)"\s*\|\s*repeat\s+([0-9]+)\s*\}\}`)

func expandTemplate(s string) string {
	return repeatTemplate.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatTemplate.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
}

// ftwExclusion is one entry of testdata/crs-exclusions.yaml: tests ("920100-4") or whole rule
// files (every test of a rule) the runner does not hold against the WAF, and why.
type ftwExclusion struct {
	Reason string   `yaml:"reason"`
	Tests  []string `yaml:"tests"`
	Rules  []int    `yaml:"rules"`
}
