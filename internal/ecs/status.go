package ecs

import (
	"context"
	"time"

	"github.com/decagon/decagon/internal/scaling"
)

// TaskStatus is a task as the admin API shows it.
type TaskStatus struct {
	// ID names the task ("tests-3"); IDs are not reused.
	ID string `json:"id"`
	// Address is the task's loopback host:port.
	Address string `json:"address"`
	// PID is the process ID.
	PID int `json:"pid"`
	// StartedAt is when the process started.
	StartedAt time.Time `json:"started_at"`
	// Revision is the deployment the task belongs to (0 before the first deployment).
	Revision int `json:"revision"`
	// State is PENDING, RUNNING or STOPPING.
	State TaskState `json:"state"`
	// Health is the target health.
	Health Health `json:"health"`
	// CPUPercent is the CPU used over the last sampling interval, in percent of the task's
	// vCPU (100 = all of its 0.25 vCPU); nil before the first full interval.
	CPUPercent *float64 `json:"cpu_percent"`
	// MemoryMiB is the resident memory.
	MemoryMiB float64 `json:"memory_mib"`
	// StopReason says why a STOPPING task stops.
	StopReason string `json:"stop_reason,omitempty"`
}

// Status is a service as the admin API shows it.
type Status struct {
	Name string `json:"name"`
	// Desired is the desired count; Running counts the RUNNING tasks, Healthy those of them
	// whose target is healthy, Pending those starting.
	Desired int `json:"desired"`
	Running int `json:"running"`
	Healthy int `json:"healthy"`
	Pending int `json:"pending"`
	// Min and Max bound the desired count under scaling.
	Min int `json:"min"`
	Max int `json:"max"`
	// MinHealthyPercent and MaxPercent bound a deployment.
	MinHealthyPercent int `json:"min_healthy_percent"`
	MaxPercent        int `json:"max_percent"`
	// Limits says whether tasks run in cgroups of their size, and why not.
	Limits string `json:"limits"`
	// Scaling is the alarms and cooldowns; nil without scaling.
	Scaling *scaling.Status `json:"scaling"`
	// Deployment is the deployment in progress, nil when none.
	Deployment *Deployment `json:"deployment"`
	// Events are the recent events, newest first.
	Events []Event `json:"events"`
	// Tasks are the tasks whose process has not exited.
	Tasks []TaskStatus `json:"tasks"`
}

// Status returns a snapshot of the service.
func (s *Service) Status() Status {
	s.mu.Lock()
	st := Status{
		Name: s.cfg.Name, Desired: s.desired, Min: s.cfg.MinCount, Max: s.cfg.MaxCount,
		MinHealthyPercent: s.cfg.Deployment.MinHealthyPercent, MaxPercent: s.cfg.Deployment.MaxPercent,
		Limits: s.limitsNote, Tasks: []TaskStatus{},
	}
	if st.Limits == "" {
		st.Limits = "task limits not asked for"
	}
	if s.deployment != nil {
		d := *s.deployment
		st.Deployment = &d
	}
	for _, t := range s.tasks {
		ts := TaskStatus{ID: t.id, Address: t.addr, PID: t.pid, StartedAt: t.startedAt, Revision: t.revision,
			State: t.state, Health: s.cfg.Targets.Health(t.id), MemoryMiB: float64(t.rss) / (1 << 20), StopReason: t.stopReason}
		if t.measured {
			c := t.cpu
			ts.CPUPercent = &c
		}
		switch t.state {
		case TaskRunning:
			st.Running++
			if ts.Health == HealthHealthy {
				st.Healthy++
			}
		case TaskPending:
			st.Pending++
		}
		st.Tasks = append(st.Tasks, ts)
	}
	s.mu.Unlock()
	if s.scaler != nil {
		sc := s.scaler.Status()
		st.Scaling = &sc
	}
	st.Events = s.events.newestFirst()
	return st
}

// WaitFor polls the service's status until cond holds or ctx is done.
func (s *Service) WaitFor(ctx context.Context, cond func(Status) bool) (Status, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st := s.Status()
		if cond(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick.C:
		}
	}
}

// Steady reports whether the service runs its desired count, all healthy, with no deployment
// in progress and no task stopping.
func Steady(st Status) bool {
	return st.Deployment == nil && st.Running == st.Desired && st.Healthy == st.Desired && len(st.Tasks) == st.Desired
}
