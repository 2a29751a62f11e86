package devstack

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func parseText(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// Two tasks' series sum per label set (in whatever order the labels come): counters, gauges and
// histogram buckets; a series only one task has is kept as it is.
func TestTaskMetricsSum(t *testing.T) {
	a := parseText(t, `# TYPE decagon_http_requests_total counter
decagon_http_requests_total{route="/test",code_class="2xx"} 3
decagon_http_requests_total{route="/test",code_class="5xx"} 1
# TYPE decagon_db_pool_connections gauge
decagon_db_pool_connections{state="idle"} 1
# TYPE decagon_db_query_duration_seconds histogram
decagon_db_query_duration_seconds_bucket{le="0.01"} 2
decagon_db_query_duration_seconds_bucket{le="+Inf"} 3
decagon_db_query_duration_seconds_sum 0.5
decagon_db_query_duration_seconds_count 3
`)
	b := parseText(t, `# TYPE decagon_http_requests_total counter
decagon_http_requests_total{code_class="2xx",route="/test"} 2
# TYPE decagon_db_pool_connections gauge
decagon_db_pool_connections{state="idle"} 2
# TYPE decagon_db_query_duration_seconds histogram
decagon_db_query_duration_seconds_bucket{le="0.01"} 1
decagon_db_query_duration_seconds_bucket{le="+Inf"} 1
decagon_db_query_duration_seconds_sum 0.25
decagon_db_query_duration_seconds_count 1
`)
	sum := map[string]*dto.MetricFamily{}
	for _, fams := range []map[string]*dto.MetricFamily{a, b} {
		for _, f := range fams {
			add(sum, f)
		}
	}
	var out strings.Builder
	for _, name := range []string{"decagon_db_pool_connections", "decagon_db_query_duration_seconds", "decagon_http_requests_total"} {
		if _, err := expfmt.MetricFamilyToText(&out, sum[name]); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{
		`decagon_http_requests_total{route="/test",code_class="2xx"} 5`,
		`decagon_http_requests_total{route="/test",code_class="5xx"} 1`,
		`decagon_db_pool_connections{state="idle"} 3`,
		`decagon_db_query_duration_seconds_bucket{le="0.01"} 3`,
		`decagon_db_query_duration_seconds_bucket{le="+Inf"} 4`,
		`decagon_db_query_duration_seconds_sum 0.75`,
		`decagon_db_query_duration_seconds_count 4`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sum lacks %s:\n%s", want, out.String())
		}
	}
	// The parsed inputs are not changed by the sum.
	if v := a["decagon_http_requests_total"].GetMetric()[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("the first task's counter became %v", v)
	}
}
