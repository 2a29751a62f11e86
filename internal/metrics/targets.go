package metrics

import "github.com/prometheus/client_golang/prometheus"

// TargetStates are the health states a target can be in, as ALB and the local admin API name
// them; decagon_target_health has one series per state, 1 for the current one.
var TargetStates = []string{"initial", "healthy", "unhealthy", "draining", "stopped"}

// Target is one target of a target group, as the collector reads it at scrape time.
type Target struct {
	Group, ID string
	// State is one of TargetStates.
	State string
	// Outstanding is the number of requests in flight to the target.
	Outstanding int64
}

// TargetCollector reports target groups at scrape time: decagon_target_health{target_group,
// target,state}, decagon_target_outstanding_requests{target_group,target} and
// decagon_target_group_healthy_targets{target_group}. Target IDs are the replicas' stable
// names ("tests-1"), so a group has at most its maximum count of them.
type TargetCollector struct {
	list                            func() []Target
	health, outstanding, healthyNum *prometheus.Desc
}

// NewTargetCollector returns a collector calling list at every scrape. Register it with a
// registry.
func NewTargetCollector(list func() []Target) *TargetCollector {
	return &TargetCollector{
		list: list,
		health: prometheus.NewDesc(Namespace+"_target_health",
			"1 for the state each target is in, 0 for the others.", []string{"target_group", "target", "state"}, nil),
		outstanding: prometheus.NewDesc(Namespace+"_target_outstanding_requests",
			"Requests in flight to a target.", []string{"target_group", "target"}, nil),
		healthyNum: prometheus.NewDesc(Namespace+"_target_group_healthy_targets",
			"Healthy targets of a target group.", []string{"target_group"}, nil),
	}
}

// Describe sends the descriptors.
func (c *TargetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.health
	ch <- c.outstanding
	ch <- c.healthyNum
}

// Collect reads the targets.
func (c *TargetCollector) Collect(ch chan<- prometheus.Metric) {
	healthy := map[string]int{}
	seen := map[[2]string]bool{}
	list := c.list()
	for i := len(list) - 1; i >= 0; i-- { // newest last: see below
		t := list[i]
		if _, ok := healthy[t.Group]; !ok {
			healthy[t.Group] = 0
		}
		// A replica restarted on a new port is briefly listed twice (old one draining): report
		// the newest entry only, as duplicate series would fail the scrape.
		if seen[[2]string{t.Group, t.ID}] {
			continue
		}
		seen[[2]string{t.Group, t.ID}] = true
		if t.State == "healthy" {
			healthy[t.Group]++
		}
		for _, s := range TargetStates {
			v := 0.0
			if s == t.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.health, prometheus.GaugeValue, v, t.Group, t.ID, s)
		}
		ch <- prometheus.MustNewConstMetric(c.outstanding, prometheus.GaugeValue, float64(t.Outstanding), t.Group, t.ID)
	}
	for g, n := range healthy {
		ch <- prometheus.MustNewConstMetric(c.healthyNum, prometheus.GaugeValue, float64(n), g)
	}
}
