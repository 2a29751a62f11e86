package devstack

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/topology"
)

// LocalRoutes are the stack's own endpoints, route labels of the edge's metrics beside the
// API's operations.
var LocalRoutes = []string{"/_dev/", targetsPrefix, servicesPrefix, idpPrefix, "/metrics"}

// EdgeMetrics registers the edge's series in reg, with the API's operations and extra as routes,
// and returns the edge's observer (edge.Config.Observe); events, when set, also get its
// throttled requests.
func EdgeMetrics(reg prometheus.Registerer, topo *topology.Topology, extra []string, events *dashboard.Events) (func(*edge.Observation), error) {
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	routes := append([]string(nil), extra...)
	for _, op := range ops {
		routes = append(routes, op.Path)
	}
	var groups []string
	for _, s := range topo.Services {
		groups = append(groups, s.Name)
	}
	m := metrics.NewEdge(reg, metrics.EdgeConfig{Routes: routes, TargetGroups: groups})
	return func(o *edge.Observation) {
		m.Observe(metrics.EdgeRequest{Method: o.Method, Route: o.Resource, TargetGroup: o.Group, Status: o.Status,
			Latency: o.Latency, IntegrationLatency: o.IntegrationLatency, Attempts: o.Attempts,
			Authorizer: o.Authorizer, Throttled: o.Throttled})
		if o.Throttled && events != nil {
			events.Add(dashboard.Event{Kind: dashboard.KindThrottled, Rule: "stage throttling", Method: o.Method, Path: o.Path, Client: o.ClientIP})
		}
	}, nil
}

// EdgeTargets lists an edge's targets for the metrics (`decagon edge`).
func EdgeTargets(e *edge.Edge) func() []metrics.Target {
	return func() []metrics.Target {
		var out []metrics.Target
		for _, name := range e.GroupNames() {
			g, _ := e.Group(name)
			for _, t := range g.Targets() {
				out = append(out, metrics.Target{Group: name, ID: t.ID, State: t.State().String(), Outstanding: t.Outstanding()})
			}
		}
		return out
	}
}

// Targets lists the stack's targets and services for the metrics and the dashboard, which are
// built before the stack starts: nothing until Set.
type Targets struct {
	stack atomic.Pointer[Stack]
}

// Set makes s the stack listed.
func (t *Targets) Set(s *Stack) { t.stack.Store(s) }

// Metrics lists the targets for metrics.NewTargetCollector.
func (t *Targets) Metrics() []metrics.Target {
	var out []metrics.Target
	for _, g := range t.groups() {
		for _, tg := range g.Targets {
			out = append(out, metrics.Target{Group: g.Name, ID: tg.ID, State: tg.Health, Outstanding: tg.Outstanding})
		}
	}
	return out
}

// Dashboard lists the target groups for dashboard.Config.Targets.
func (t *Targets) Dashboard() []dashboard.TargetGroup {
	var out []dashboard.TargetGroup
	for _, g := range t.groups() {
		tg := dashboard.TargetGroup{Name: g.Name, Targets: []dashboard.Target{}}
		for _, x := range g.Targets {
			tg.Targets = append(tg.Targets, dashboard.Target{ID: x.ID, Address: x.Address, Health: x.Health, Outstanding: x.Outstanding,
				PID: x.PID, CPUPercent: x.CPUPercent, MemoryMiB: x.MemoryMiB})
		}
		out = append(out, tg)
	}
	return out
}

// dashboardEvents is how many of a service's events the dashboard shows.
const dashboardEvents = 8

// Services lists the services for dashboard.Config.Services.
func (t *Targets) Services() []dashboard.Service {
	s := t.stack.Load()
	if s == nil {
		return nil
	}
	var out []dashboard.Service
	for _, st := range s.ServiceStatuses() {
		ds := dashboard.Service{Name: st.Name, Desired: st.Desired, Running: st.Running, Healthy: st.Healthy,
			Pending: st.Pending, Min: st.Min, Max: st.Max, Events: []dashboard.ServiceEvent{}}
		if st.Deployment != nil {
			ds.Deployment = fmt.Sprintf("deployment %d in progress", st.Deployment.ID)
		}
		if st.Scaling != nil {
			for _, a := range st.Scaling.Alarms {
				ds.Alarms = append(ds.Alarms, dashboard.Alarm{Name: a.Name, State: string(a.State), Value: a.Value,
					Threshold: a.Threshold, Comparison: a.Comparison, PeriodSeconds: a.PeriodSeconds, EvaluationPeriods: a.EvaluationPeriods})
			}
		}
		for i, e := range st.Events {
			if i == dashboardEvents {
				break
			}
			ds.Events = append(ds.Events, dashboard.ServiceEvent{Time: e.Time, Kind: string(e.Kind), Message: e.Message})
		}
		out = append(out, ds)
	}
	return out
}

func (t *Targets) groups() []TargetGroup {
	if s := t.stack.Load(); s != nil {
		return s.TargetGroups()
	}
	return nil
}

// DashboardRoutes lists the API's operations with the service the edge sends each to.
func DashboardRoutes(topo *topology.Topology) ([]dashboard.Route, error) {
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	var out []dashboard.Route
	for _, op := range ops {
		auth := "token"
		switch {
		case op.Public:
			auth = "public"
		case len(op.Scopes) > 0:
			auth = strings.Join(op.Scopes, " ")
		}
		out = append(out, dashboard.Route{Method: op.Method, Path: op.Path, Service: serviceFor(topo, op.Path), Auth: auth})
	}
	return out, nil
}

// serviceFor is the service the edge routes path to: topology's listener rules, else the
// listener's default action, the first service (as edge.Edge routes it).
func serviceFor(topo *topology.Topology, path string) string {
	if s, ok := topo.Match(path); ok {
		return s.Name
	}
	return topo.Services[0].Name
}
