package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Each configuration is synthesized once (jsii synth takes seconds) and shared by every test.
var configs = map[string]map[string]any{
	"v2-dev": {"imageDigest": testDigest},
	"v1-dev": {"vpcLink": "v1", "imageDigest": testDigest},
	"v2-prod": {
		"env": "prod", "imageDigest": testDigest, "alarmEmail": "ops@example.com", "vpcEndpoints": "true",
		"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0c6f6f3e-2f7e-4a5b-9d0e-1c2b3a4d5e6f",
		"albDomainName":  "alb.internal.example.com",
	},
	// three: a copy of decagon.yaml with a third service (written by TestMain).
	"three": {"imageDigest": testDigest},
	// registry-only: no image yet, the first step of a deploy.
	"registry-only": {},
}

// testDigest stands for the digest the image command prints.
const testDigest = "sha256:4f6e2c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"

// thirdService is appended to a copy of decagon.yaml for the "three" configuration, with a
// throttling override of an operation api/openapi.yaml lacks.
const thirdService = `
  - name: reports
    port: 8080
    pathRules:
      - priority: 30
        paths: ["/reports", "/reports/*"]
`

// synthesized is one configuration's app, its templates as assertions and as plain JSON.
type synthesized struct {
	stacks   Stacks
	app, reg assertions.Template
	raw      map[string]any
	took     time.Duration
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
	// testDir holds the cloud assemblies; it outlives every test (assertions re-read them).
	testDir string
)

func TestMain(m *testing.M) {
	// jsii warns on every run that node 20 (this machine's) is past its end of life.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	dir, err := os.MkdirTemp("", "decagon-infra-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		testDir = dir
		defer jsii.Close()
		data, err := os.ReadFile(filepath.Join("..", "decagon.yaml"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		doc := string(data) + thirdService
		doc = strings.Replace(doc, "    methods:", "    methods:\n      \"GET /nope\": {rateLimit: 1, burstLimit: 1}", 1)
		path := filepath.Join(dir, "decagon.yaml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		configs["three"]["topology"] = path
		return m.Run()
	}()
	os.Exit(code)
}

// synth returns the synthesized configuration name, synthesizing it on first use.
func synth(t *testing.T, name string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[name]; ok {
		return s
	}
	ctx, ok := configs[name]
	if !ok {
		t.Fatalf("no configuration %q", name)
	}
	start := time.Now()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(filepath.Join(testDir, name))})
	stacks, err := Build(app)
	if err != nil {
		t.Fatalf("Build(%s): %v", name, err)
	}
	s := &synthesized{
		stacks: stacks,
		reg:    assertions.Template_FromStack(stacks.Registry.Stack, nil),
	}
	if stacks.App != nil {
		s.app = assertions.Template_FromStack(stacks.App.Stack, nil)
		s.raw = *s.app.ToJSON()
	}
	s.took = time.Since(start)
	t.Logf("synthesized %s in %s", name, s.took.Round(time.Millisecond))
	synthCache[name] = s
	return s
}

// resources returns the resources of type typ, by logical ID, as plain properties.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := s.raw["Resources"].(map[string]any)
	for id, r := range res {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

// one returns the single resource of type typ, failing the test if there is not exactly one.
func (s *synthesized) one(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, p := range rs {
		return id, p
	}
	return "", nil
}

// has asserts that a resource of type typ has props (a deep partial match), turning jsii's
// panic into a test error.
func has(t *testing.T, tpl assertions.Template, typ string, props map[string]any) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("no %s with %s:\n%v", typ, js(props), r)
		}
	}()
	tpl.HasResourceProperties(jsii.String(typ), assertions.Match_ObjectLike(&props))
}

// count asserts the number of resources of type typ.
func count(t *testing.T, s *synthesized, typ string, want int) {
	t.Helper()
	if got := len(s.resources(typ)); got != want {
		t.Errorf("%d resources of type %s, want %d", got, typ, want)
	}
}

// get walks a path of keys and indexes through plain JSON.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// ref is CloudFormation's {"Ref": id}.
func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// getAtt is CloudFormation's {"Fn::GetAtt": [id, attr]}.
func getAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// eq compares plain JSON values.
func eq(a, b any) bool { return js(a) == js(b) }
