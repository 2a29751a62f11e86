package dashboard

import (
	"math"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Point is one sample of the charts: the rates over the interval that ends at T.
type Point struct {
	T         int64   `json:"t"` // Unix milliseconds
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	ErrorRate float64 `json:"error_rate"` // 5xx share of the requests, 0..1
}

// totals are the cumulative figures read from one gathering.
type totals struct {
	at       time.Time
	requests float64
	errors   float64                // 5xx
	buckets  map[float64]float64    // upper bound → cumulative count, summed over series
	routes   map[string]routeTotals // by routeKey: one operation, not one path
	waf      map[string]float64
}

type routeTotals struct{ requests, errors float64 }

// routeKey keys an operation's totals: POST /test and GET /test are two rows of the page.
func routeKey(method, route string) string { return method + " " + route }

// excluded reports whether a route is the stack's own tooling (the dashboard polling itself,
// the admin API, /metrics), which the charts leave out.
func excluded(route string) bool {
	return strings.HasPrefix(route, "/_dev") || route == "/metrics" || strings.HasPrefix(route, "/_idp")
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// read sums the request counter and the latency histogram of the gathered families.
func (d *Dashboard) read(fams []*dto.MetricFamily, at time.Time) totals {
	t := totals{at: at, buckets: map[float64]float64{}, routes: map[string]routeTotals{}, waf: map[string]float64{}}
	for _, f := range fams {
		switch f.GetName() {
		case d.cfg.RequestsMetric:
			for _, m := range f.GetMetric() {
				route := label(m, "route")
				if excluded(route) {
					continue
				}
				v := m.GetCounter().GetValue()
				key := routeKey(label(m, "method"), route)
				rt := t.routes[key]
				t.requests += v
				rt.requests += v
				if label(m, "code_class") == "5xx" {
					t.errors += v
					rt.errors += v
				}
				t.routes[key] = rt
			}
		case d.cfg.DurationMetric:
			for _, m := range f.GetMetric() {
				if excluded(label(m, "route")) {
					continue
				}
				for _, b := range m.GetHistogram().GetBucket() {
					t.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
				t.buckets[math.Inf(1)] += float64(m.GetHistogram().GetSampleCount())
			}
		case "decagon_waf_requests_total":
			for _, m := range f.GetMetric() {
				t.waf[label(m, "action")] += m.GetCounter().GetValue()
			}
		}
	}
	return t
}

// point computes the rates between two readings.
func point(prev, cur totals) Point {
	dt := cur.at.Sub(prev.at).Seconds()
	p := Point{T: cur.at.UnixMilli()}
	if dt <= 0 {
		return p
	}
	n := cur.requests - prev.requests
	if n <= 0 {
		return p
	}
	p.RPS = round(n/dt, 2)
	p.ErrorRate = round((cur.errors-prev.errors)/n, 4)
	delta := map[float64]float64{}
	for ub, c := range cur.buckets {
		delta[ub] = c - prev.buckets[ub]
	}
	p.P50 = round(quantile(0.5, delta)*1000, 3)
	p.P99 = round(quantile(0.99, delta)*1000, 3)
	return p
}

// quantile estimates the q-quantile from cumulative bucket counts by linear interpolation
// within the bucket, as PromQL's histogram_quantile does.
func quantile(q float64, cumulative map[float64]float64) float64 {
	bounds := make([]float64, 0, len(cumulative))
	for ub := range cumulative {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0
	}
	total := cumulative[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	rank := q * total
	lower, lowerCount := 0.0, 0.0
	for _, ub := range bounds {
		c := cumulative[ub]
		if c >= rank {
			if math.IsInf(ub, 1) {
				return lower // past the last finite bound: the best bound known
			}
			if c == lowerCount {
				return ub
			}
			return lower + (ub-lower)*(rank-lowerCount)/(c-lowerCount)
		}
		lower, lowerCount = ub, c
	}
	return lower
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}
