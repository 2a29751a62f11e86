package devstack

import (
	"net/http"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/ecs"
	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/web"
)

// The admin API's prefixes. The rest of /_dev/ is free for more local tools (the dashboard).
const (
	targetsPrefix  = "/_dev/targets"
	servicesPrefix = "/_dev/services"
)

// TargetGroup is a target group as GET /_dev/targets lists it.
type TargetGroup struct {
	// Name is the service's name.
	Name string `json:"name"`
	// HealthCheck is the local health check the edge runs.
	HealthCheck HealthCheck `json:"health_check"`
	// Targets are the group's targets, draining ones included.
	Targets []Target `json:"targets"`
}

// HealthCheck is a target group's health check settings.
type HealthCheck struct {
	Path               string `json:"path"`
	Interval           string `json:"interval"`
	Timeout            string `json:"timeout"`
	HealthyThreshold   int    `json:"healthy_threshold"`
	UnhealthyThreshold int    `json:"unhealthy_threshold"`
	SuccessCodes       string `json:"success_codes"`
}

// Target is one task as the admin API shows it.
type Target struct {
	// ID names the task ("tests-3"); IDs are not reused: a replacement gets a new one.
	ID string `json:"id"`
	// Service is the service the task runs.
	Service string `json:"service"`
	// Address is the task's loopback host:port.
	Address string `json:"address"`
	// Health is the target health, as ALB names it: initial (registered, not yet through its
	// healthy threshold), healthy, unhealthy or draining (deregistered, finishing its
	// requests).
	Health string `json:"health"`
	// Outstanding is the number of requests in flight to it.
	Outstanding int64 `json:"outstanding"`
	// PID is the task's process ID; 0 once its process has exited.
	PID int `json:"pid"`
	// State is the task's state: PENDING, RUNNING or STOPPING.
	State ecs.TaskState `json:"state,omitempty"`
	// CPUPercent is the CPU the task used over the last sampling interval, in percent of its
	// vCPU (100 = all of its decagon.yaml cpu); null before the first interval.
	CPUPercent *float64 `json:"cpu_percent"`
	// MemoryMiB is the task's resident memory.
	MemoryMiB float64 `json:"memory_mib"`
	// StartedAt is when its process started.
	StartedAt *time.Time `json:"started_at"`
}

// TargetGroups returns every target group and its targets, with their tasks' figures.
func (s *Stack) TargetGroups() []TargetGroup {
	var out []TargetGroup
	for _, svc := range s.cfg.Topology.Services {
		hc := svc.HealthCheck.ForLocal()
		tg := TargetGroup{Name: svc.Name, Targets: []Target{}, HealthCheck: HealthCheck{
			Path: hc.Path, Interval: hc.Interval.String(), Timeout: hc.Timeout.String(),
			HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold, SuccessCodes: hc.SuccessCodes,
		}}
		tasks := map[string]ecs.TaskStatus{}
		if es, ok := s.byName[svc.Name]; ok {
			for _, ts := range es.Status().Tasks {
				tasks[ts.ID] = ts
			}
		}
		g, _ := s.edge.Group(svc.Name)
		for _, t := range g.Targets() {
			x := Target{ID: t.ID, Service: svc.Name, Address: t.Addr, Health: t.State().String(), Outstanding: t.Outstanding()}
			if ts, ok := tasks[t.ID]; ok {
				started := ts.StartedAt
				x.PID, x.State, x.CPUPercent, x.MemoryMiB, x.StartedAt = ts.PID, ts.State, ts.CPUPercent, ts.MemoryMiB, &started
			}
			tg.Targets = append(tg.Targets, x)
		}
		out = append(out, tg)
	}
	return out
}

// ServiceStatuses returns the status of every service, in decagon.yaml's order.
func (s *Stack) ServiceStatuses() []ecs.Status {
	out := make([]ecs.Status, 0, len(s.services))
	for _, es := range s.services {
		out = append(out, es.Status())
	}
	return out
}

// StopTask stops the task with the given ID as `aws ecs stop-task` does: it is deregistered,
// drained and signalled, and the scheduler starts a replacement. It reports false for an ID
// that names no running task.
func (s *Stack) StopTask(id string) bool {
	for _, es := range s.services {
		if es.StopTask(id, "stopped through the admin API") {
			return true
		}
	}
	return false
}

// adminHandler serves the admin API:
//
//	GET  /_dev/targets                    the target groups and their targets
//	POST /_dev/targets/{id}/stop          stop a task (the scheduler replaces it)
//	GET  /_dev/services                   the services: counts, alarms, deployment, events
//	POST /_dev/services/{name}/deploy     a rolling deployment (update-service --force-new-deployment)
//
// Cross-origin unsafe requests are refused, so that a web page open in the developer's browser
// cannot stop tasks or deploy.
func (s *Stack) adminHandler() http.Handler {
	h := web.Handler(func(w http.ResponseWriter, r *http.Request) error {
		prefix, list, verb := targetsPrefix, "target_groups", "stop"
		if strings.HasPrefix(r.URL.Path, servicesPrefix) {
			prefix, list, verb = servicesPrefix, "services", "deploy"
		}
		rest := strings.TrimPrefix(r.URL.Path, prefix)
		if rest == "" {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return problem.New(http.StatusMethodNotAllowed, "use GET").With("Allow", "GET, HEAD")
			}
			var v any = s.TargetGroups()
			if prefix == servicesPrefix {
				v = s.ServiceStatuses()
			}
			return web.WriteJSON(w, http.StatusOK, map[string]any{list: v})
		}
		parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
		if rest[0] != '/' || len(parts) != 2 {
			return problem.New(http.StatusNotFound, "no such admin endpoint")
		}
		if prefix == targetsPrefix && parts[1] == "start" {
			return problem.New(http.StatusNotFound, "tasks are not started by hand: the service's scheduler replaces a stopped task (see GET /_dev/services)")
		}
		if parts[1] != verb {
			return problem.New(http.StatusNotFound, "no such admin endpoint")
		}
		if r.Method != http.MethodPost {
			return problem.New(http.StatusMethodNotAllowed, "use POST").With("Allow", "POST")
		}
		if prefix == servicesPrefix {
			return s.deploy(w, parts[0])
		}
		return s.stop(w, parts[0])
	})
	return http.NewCrossOriginProtection().Handler(h)
}

// stop answers POST /_dev/targets/{id}/stop with the target's entry, now draining.
func (s *Stack) stop(w http.ResponseWriter, id string) error {
	if !s.StopTask(id) {
		return problem.Newf(http.StatusNotFound, "no running task %q", id)
	}
	for _, tg := range s.TargetGroups() {
		for _, t := range tg.Targets {
			if t.ID == id {
				return web.WriteJSON(w, http.StatusOK, t)
			}
		}
	}
	// Not registered yet, or already out of its group.
	return web.WriteJSON(w, http.StatusOK, Target{ID: id, Health: "draining", State: ecs.TaskStopping})
}

// deploy answers POST /_dev/services/{name}/deploy with 202 and the deployment.
func (s *Stack) deploy(w http.ResponseWriter, name string) error {
	es, ok := s.byName[name]
	if !ok {
		return problem.Newf(http.StatusNotFound, "no service %q", name)
	}
	d, err := es.Deploy()
	if err != nil {
		return err // decagon.EConflict: 409 through problem.From
	}
	return web.WriteJSON(w, http.StatusAccepted, map[string]any{"service": name, "deployment": d})
}

// DeployAll starts a rolling deployment of every service, as `decagon dev --watch` does after
// a rebuild; it returns the first refusal.
func (s *Stack) DeployAll() error {
	var first error
	for _, es := range s.services {
		if _, err := es.Deploy(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
