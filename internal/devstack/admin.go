package devstack

import (
	"net/http"
	"strings"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/web"
)

// adminPrefix is where the edge mounts the admin API. The rest of /_dev/ is free for more
// local tools (the monitoring dashboard).
const adminPrefix = "/_dev/targets"

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

// Target is one replica as the admin API shows it.
type Target struct {
	// ID is stable across stop and start ("tests-1").
	ID string `json:"id"`
	// Service is the service the replica runs.
	Service string `json:"service"`
	// Address is host:port; a started replica gets a new one.
	Address string `json:"address"`
	// Health is initial, healthy, unhealthy, draining (deregistered) or stopped.
	Health string `json:"health"`
	// Outstanding is the number of requests in flight to it.
	Outstanding int64 `json:"outstanding"`
}

// TargetGroups returns every target group and its targets.
func (s *Stack) TargetGroups() []TargetGroup {
	var out []TargetGroup
	for _, svc := range s.cfg.Topology.Services {
		hc := svc.HealthCheck.ForLocal()
		tg := TargetGroup{Name: svc.Name, Targets: []Target{}, HealthCheck: HealthCheck{
			Path: hc.Path, Interval: hc.Interval.String(), Timeout: hc.Timeout.String(),
			HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold, SuccessCodes: hc.SuccessCodes,
		}}
		g, _ := s.edge.Group(svc.Name)
		for _, t := range g.Targets() {
			health := t.State().String()
			if r, ok := s.byID[t.ID]; ok {
				if addr, running := r.snapshot(); addr == t.Addr && !running {
					health = "stopped"
				}
			}
			tg.Targets = append(tg.Targets, Target{ID: t.ID, Service: svc.Name, Address: t.Addr, Health: health, Outstanding: t.Outstanding()})
		}
		out = append(out, tg)
	}
	return out
}

// StopReplica stops the replica with the given ID (see replica.stop); it reports false for an
// unknown ID. Stopping a stopped replica does nothing.
func (s *Stack) StopReplica(id string) bool {
	r, ok := s.replica(id)
	if ok {
		r.stop()
	}
	return ok
}

// StartReplica starts the replica with the given ID again, on a new port; it reports false for
// an unknown ID. Starting a running replica does nothing.
func (s *Stack) StartReplica(id string) (bool, error) {
	r, ok := s.replica(id)
	if !ok {
		return false, nil
	}
	return true, r.start(s.ctx, s.cfg.NewService)
}

// adminHandler serves the admin API. Cross-origin unsafe requests are refused, so that a web
// page open in the developer's browser cannot stop replicas.
func (s *Stack) adminHandler() http.Handler {
	h := web.Handler(func(w http.ResponseWriter, r *http.Request) error {
		rest := strings.TrimPrefix(r.URL.Path, adminPrefix)
		if rest == "" {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return problem.New(http.StatusMethodNotAllowed, "use GET").With("Allow", "GET, HEAD")
			}
			return web.WriteJSON(w, http.StatusOK, map[string]any{"target_groups": s.TargetGroups()})
		}
		parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
		if len(parts) != 2 || rest[0] != '/' || (parts[1] != "stop" && parts[1] != "start") {
			return problem.New(http.StatusNotFound, "no such admin endpoint")
		}
		if r.Method != http.MethodPost {
			return problem.New(http.StatusMethodNotAllowed, "use POST").With("Allow", "POST")
		}
		id := parts[0]
		if _, ok := s.replica(id); !ok {
			return problem.Newf(http.StatusNotFound, "no target %q", id)
		}
		if parts[1] == "stop" {
			s.StopReplica(id)
		} else if _, err := s.StartReplica(id); err != nil {
			return err
		}
		return s.writeTarget(w, id)
	})
	return http.NewCrossOriginProtection().Handler(h)
}

// writeTarget answers with the replica's current entry.
func (s *Stack) writeTarget(w http.ResponseWriter, id string) error {
	r := s.byID[id]
	addr, running := r.snapshot()
	for _, tg := range s.TargetGroups() {
		for _, t := range tg.Targets {
			if t.ID == id && t.Address == addr {
				return web.WriteJSON(w, http.StatusOK, t)
			}
		}
	}
	health := "initial"
	if !running {
		health = "stopped"
	}
	return web.WriteJSON(w, http.StatusOK, Target{ID: id, Service: r.service, Address: addr, Health: health})
}
