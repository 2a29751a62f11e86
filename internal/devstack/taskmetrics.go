package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/decagon/decagon/internal/ecs"
)

// scrapeTimeout bounds the scrape of one task's /metrics.
const scrapeTimeout = 2 * time.Second

// taskMetrics is a prometheus.Gatherer of the services' series, which live in the tasks: each
// task serves its /metrics on an admin address of its own, and every Gather scrapes the running
// tasks and sums their series per label set, so that the stack's /metrics shows a service's
// requests, database calls and pools as one figure. A counter of a task that stopped leaves the
// sum with it (the sum drops, as a counter reset). Families the stack's own registry has (the build info, the Go runtime's, the
// process's) are left out: the stack reports its own.
type taskMetrics struct {
	own    prometheus.Gatherer
	logger *slog.Logger
	client *http.Client
	stack  atomic.Pointer[Stack]

	mu    sync.Mutex
	admin map[string]string // task address → its /metrics address
}

func newTaskMetrics(own prometheus.Gatherer, logger *slog.Logger) *taskMetrics {
	return &taskMetrics{own: own, logger: logger, admin: map[string]string{},
		client: &http.Client{Timeout: scrapeTimeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}}}
}

// track records the /metrics address of the task listening on addr.
func (m *taskMetrics) track(addr, admin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.admin[addr] = admin
}

// Gather scrapes every running task and returns the services' families, summed over tasks.
func (m *taskMetrics) Gather() ([]*dto.MetricFamily, error) {
	s := m.stack.Load()
	if s == nil {
		return nil, nil
	}
	var targets []string
	live := map[string]bool{}
	for _, st := range s.ServiceStatuses() {
		for _, t := range st.Tasks {
			live[t.Address] = true
			if t.State == ecs.TaskRunning {
				targets = append(targets, t.Address)
			}
		}
	}
	m.mu.Lock()
	var admins []string
	for addr, admin := range m.admin {
		switch {
		case !live[addr]:
			delete(m.admin, addr) // the task is gone
		case slices.Contains(targets, addr):
			admins = append(admins, admin)
		}
	}
	m.mu.Unlock()

	own := map[string]bool{}
	if fams, err := m.own.Gather(); err == nil {
		for _, f := range fams {
			own[f.GetName()] = true
		}
	}
	results := make([]map[string]*dto.MetricFamily, len(admins))
	var wg sync.WaitGroup
	for i, admin := range admins {
		wg.Go(func() {
			fams, err := m.scrape(admin)
			if err != nil {
				// A task stopping or not serving yet: its series are missing from this scrape.
				m.logger.Debug("task metrics not scraped", "addr", admin, "err", err)
				return
			}
			results[i] = fams
		})
	}
	wg.Wait()
	sum := map[string]*dto.MetricFamily{}
	for _, fams := range results {
		for name, f := range fams {
			if !own[name] {
				add(sum, f)
			}
		}
	}
	out := make([]*dto.MetricFamily, 0, len(sum))
	for _, f := range sum {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

// scrape reads one task's /metrics in the text format.
func (m *taskMetrics) scrape(admin string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", admin, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// add sums family f into sum, metric by metric, matched by their label sets.
func add(sum map[string]*dto.MetricFamily, f *dto.MetricFamily) {
	into, ok := sum[f.GetName()]
	if !ok {
		sum[f.GetName()] = proto.Clone(f).(*dto.MetricFamily)
		return
	}
	if into.GetType() != f.GetType() {
		return // two builds disagree during a deployment: keep the first
	}
	for _, m := range f.GetMetric() {
		key := labelKey(m)
		i := slices.IndexFunc(into.Metric, func(x *dto.Metric) bool { return labelKey(x) == key })
		if i < 0 {
			into.Metric = append(into.Metric, proto.Clone(m).(*dto.Metric))
			continue
		}
		addMetric(into.Metric[i], m)
	}
}

// labelKey identifies a metric of a family by its label set, whatever the labels' order.
func labelKey(m *dto.Metric) string {
	ls := slices.Clone(m.GetLabel())
	slices.SortFunc(ls, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.GetName())
		b.WriteByte(0)
		b.WriteString(l.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// addMetric adds m's values to into's: counters, gauges, untyped values and histograms
// (buckets matched by upper bound) sum; a summary's count and sum do, its quantiles cannot and
// are dropped.
func addMetric(into, m *dto.Metric) {
	switch {
	case into.Counter != nil && m.Counter != nil:
		into.Counter.Value = proto.Float64(into.Counter.GetValue() + m.Counter.GetValue())
	case into.Gauge != nil && m.Gauge != nil:
		into.Gauge.Value = proto.Float64(into.Gauge.GetValue() + m.Gauge.GetValue())
	case into.Untyped != nil && m.Untyped != nil:
		into.Untyped.Value = proto.Float64(into.Untyped.GetValue() + m.Untyped.GetValue())
	case into.Histogram != nil && m.Histogram != nil:
		h := into.Histogram
		h.SampleCount = proto.Uint64(h.GetSampleCount() + m.Histogram.GetSampleCount())
		h.SampleSum = proto.Float64(h.GetSampleSum() + m.Histogram.GetSampleSum())
		for _, b := range m.Histogram.GetBucket() {
			for _, hb := range h.Bucket {
				if hb.GetUpperBound() == b.GetUpperBound() {
					hb.CumulativeCount = proto.Uint64(hb.GetCumulativeCount() + b.GetCumulativeCount())
				}
			}
		}
	case into.Summary != nil && m.Summary != nil:
		into.Summary.SampleCount = proto.Uint64(into.Summary.GetSampleCount() + m.Summary.GetSampleCount())
		into.Summary.SampleSum = proto.Float64(into.Summary.GetSampleSum() + m.Summary.GetSampleSum())
		into.Summary.Quantile = nil
	}
}
