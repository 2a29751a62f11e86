package ecs

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// reconcile brings the tasks toward the desired state: it reaps exited tasks, stops unhealthy
// ones, starts and stops tasks for the desired count, and moves a deployment on.
func (s *Service) reconcile() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	now := time.Now()
	kept := make([]*task, 0, len(s.tasks))
	for _, t := range s.tasks {
		if t.hasExited() {
			s.reap(t, now)
			continue
		}
		kept = append(kept, t)
		if t.state != TaskRunning {
			continue
		}
		switch s.cfg.Targets.Health(t.id) {
		case HealthHealthy:
			if !t.healthySeen && t.startedAt.After(s.lastFailure) {
				// A task started after the last failure came up: starts need no more delay.
				s.backoff, s.nextStart = 0, time.Time{}
			}
			t.healthySeen = true
		case HealthUnhealthy:
			// ECS stops a task its load balancer reports unhealthy and starts another.
			if now.Sub(t.startedAt) >= s.cfg.HealthCheckGracePeriod {
				s.replaced = append(s.replaced, fmt.Sprintf("task %s (pid %d) failed its health checks", t.id, t.pid))
				s.stopTask(t, "failed ELB health checks")
			}
		}
	}
	s.tasks = kept

	var cur, old []*task
	alive := 0 // processes not yet exited, stopping ones included: what maxPercent bounds
	for _, t := range s.tasks {
		alive++
		switch {
		case t.state == TaskStopping:
		case t.revision == s.revision:
			cur = append(cur, t)
		default:
			old = append(old, t)
		}
	}
	if s.deployment != nil && len(old) == 0 && len(cur) == s.desired && s.countLive(s.healthy) == s.desired &&
		!slices.ContainsFunc(s.tasks, func(t *task) bool { return t.revision < s.revision }) {
		s.event(EventDeploymentFinished, "deployment %d finished: %d tasks of the new revision healthy", s.deployment.ID, s.desired)
		s.deployment = nil
	}

	start := s.desired - len(cur)
	if s.deployment != nil {
		_, upper := s.bounds()
		start = min(start, upper-alive)
	}
	for ; start > 0 && !now.Before(s.nextStart); start-- {
		s.startTask(now)
	}
	if extra := len(cur) - s.desired; extra > 0 {
		for _, t := range s.stopOrder(cur)[:extra] {
			s.stopTask(t, "scale-in")
		}
	}
	if len(old) > 0 {
		lower, _ := s.bounds()
		healthy := s.countLive(s.healthy)
		for _, t := range s.stopOrder(old) {
			if s.healthy(t) {
				if healthy-1 < lower {
					break // the rest are healthy too: wait for a new task to pass its checks
				}
				healthy--
			}
			s.stopTask(t, fmt.Sprintf("deployment %d", s.revision))
		}
	}
}

// healthy reports whether t is running and its target is healthy; s.mu is held.
func (s *Service) healthy(t *task) bool {
	return t.state == TaskRunning && s.cfg.Targets.Health(t.id) == HealthHealthy
}

// stopOrder returns ts in the order tasks are stopped: those not healthy first (they carry no
// traffic), then the newest.
func (s *Service) stopOrder(ts []*task) []*task {
	out := slices.Clone(ts)
	slices.SortStableFunc(out, func(a, b *task) int {
		ha, hb := s.healthy(a), s.healthy(b)
		if ha != hb {
			if ha {
				return 1
			}
			return -1
		}
		return b.startedAt.Compare(a.startedAt)
	})
	return out
}

// reap forgets an exited task; one that exited on its own is to be replaced. s.mu is held.
func (s *Service) reap(t *task, now time.Time) {
	if err := t.cgroup.remove(); err != nil {
		s.logger.Warn("task cgroup not removed", "task", t.id, "err", err)
	}
	if t.state == TaskStopping {
		return
	}
	s.logger.Warn("task exited", "task", t.id, "pid", t.pid, "state", string(t.state), "reason", t.exitReason())
	s.replaced = append(s.replaced, fmt.Sprintf("task %s (pid %d) exited (%s)", t.id, t.pid, t.exitReason()))
	if t.state == TaskPending {
		s.failedStart(now)
	}
	if t.registered {
		s.deregisterNow(t.id) // the target is dead: out at once, no drain to wait for
	}
}

// deregisterNow takes a target out of its group without waiting for it to drain.
func (s *Service) deregisterNow(id string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.cfg.Targets.Deregister(ctx, id)
}

// failedStart delays the next start, doubling up to maxBackoff, so that a binary that cannot
// start does not spin. s.mu is held.
func (s *Service) failedStart(now time.Time) {
	s.backoff = min(max(2*s.backoff, 500*time.Millisecond), maxBackoff)
	s.nextStart, s.lastFailure = now.Add(s.backoff), now
}

// startTask starts a task of the current revision and registers it once it listens. s.mu is
// held.
func (s *Service) startTask(now time.Time) {
	s.seq++
	t := &task{id: fmt.Sprintf("%s-%d", s.cfg.Name, s.seq), revision: s.revision, state: TaskPending}
	addr, err := FreeAddr()
	if err != nil {
		s.logger.Error("no port for a task", "err", err)
		s.failedStart(now)
		return
	}
	t.addr = addr
	cmd := s.cfg.Command(addr)
	if cmd.Stdout == nil {
		cmd.Stdout = s.cfg.Output
	}
	if cmd.Stderr == nil {
		cmd.Stderr = s.cfg.Output
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Second // a grandchild holding the output pipes does not hold Wait
	}
	cgroup := fmt.Sprintf("decagon-%d-%s", os.Getpid(), t.id)
	if err := t.spawn(cmd, s.cgroups, s.cfg.Limits, cgroup, s.wakeUp); err != nil {
		s.logger.Error("task not started", "task", t.id, "err", err)
		s.failedStart(now)
		return
	}
	s.tasks = append(s.tasks, t)
	s.logger.Info("task started", "task", t.id, "pid", t.pid, "addr", t.addr, "revision", t.revision)
	if len(s.replaced) > 0 {
		why := s.replaced[0]
		s.replaced = s.replaced[1:]
		s.event(EventTaskReplaced, "%s; replaced by task %s (pid %d)", why, t.id, t.pid)
	}
	s.bg.Add(1)
	go s.register(t)
}

// register waits for t to listen and registers it in the target group.
func (s *Service) register(t *task) {
	defer s.bg.Done()
	defer s.wakeUp()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.StartTimeout)
	defer cancel()
	err := t.waitListening(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state != TaskPending || t.hasExited() {
		return // stopped meanwhile, or exited: reconcile reaps it
	}
	if err == nil {
		err = s.cfg.Targets.Register(t.id, t.addr)
	}
	if err != nil {
		if s.ctx.Err() == nil {
			s.logger.Error("task not registered", "task", t.id, "err", err)
			s.replaced = append(s.replaced, fmt.Sprintf("task %s (pid %d) did not start: %v", t.id, t.pid, err))
			s.failedStart(time.Now())
		}
		s.stopTask(t, "did not start")
		return
	}
	t.state, t.registered = TaskRunning, true
}

// stopTask deregisters t, waits for it to drain, then stops it (SIGTERM, SIGKILL after
// StopTimeout). s.mu is held.
func (s *Service) stopTask(t *task, reason string) {
	t.state, t.stopReason = TaskStopping, reason
	registered := t.registered
	s.logger.Info("task stopping", "task", t.id, "pid", t.pid, "reason", reason)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.wakeUp()
		if registered {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
			if err := s.cfg.Targets.Deregister(ctx, t.id); err != nil {
				s.logger.Warn("task not drained", "task", t.id, "err", err)
			}
			cancel()
		}
		t.terminate(s.cfg.StopTimeout)
	}()
}

// shutdown stops every task at once (the stack drains the edge before) and waits for them.
func (s *Service) shutdown() {
	s.mu.Lock()
	for _, t := range s.tasks {
		if t.state != TaskStopping {
			if t.registered {
				s.deregisterNow(t.id) // no drain: the stack drained its edge already
				t.registered = false
			}
			s.stopTask(t, "service stopped")
		}
	}
	s.mu.Unlock()
	s.bg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		<-t.exited
		_ = t.cgroup.remove()
	}
	s.tasks = nil
}

// utilization is a task's value of the scaling metric: CPUUtilization (cpu, in percent of
// the task's vCPU) or MemoryUtilization (rss in percent of the task's memory).
func (s *Service) utilization(cpu float64, rss uint64) float64 {
	if s.cfg.Scaling != nil && s.cfg.Scaling.Scaling.Metric == "MemoryUtilization" && s.cfg.Limits.MemoryMiB > 0 {
		return float64(rss) / float64(s.cfg.Limits.MemoryMiB<<20) * 100
	}
	return cpu
}

// sample reads the CPU and memory of every running task for Status and, with datapoint, the
// scaling metric over the last resolution: the scaler records it and its decisions are applied.
func (s *Service) sample(datapoint bool) {
	s.mu.Lock()
	var ts []*task
	for _, t := range s.tasks {
		if t.state == TaskRunning {
			ts = append(ts, t)
		}
	}
	s.mu.Unlock()
	readings := make([]usage, len(ts))
	ok := make([]bool, len(ts))
	for i, t := range ts {
		u, err := readUsage(t.pid)
		readings[i], ok[i] = u, err == nil
	}
	vcpu := s.cfg.Limits.vCPU()
	var values []float64
	s.mu.Lock()
	for i, t := range ts {
		if !ok[i] {
			continue
		}
		if datapoint {
			// A task counts once it has passed its health checks, and its first datapoint
			// covers a whole resolution after that: the reading at its first tick only starts
			// it. A task the load balancer sends nothing to yet would be the Minimum of every
			// datapoint and bring the scale-in alarm at once, the more so under --scaling-speedup,
			// which compresses the periods but not the health checks.
			if !t.healthySeen {
				continue
			}
			if !t.scalePrev.at.IsZero() {
				values = append(values, s.utilization(cpuPercent(t.scalePrev, readings[i], vcpu), readings[i].rss))
			}
			t.scalePrev = readings[i]
			continue
		}
		// Status's figures come from the other ticker alone: both tick every second at
		// speed-up 60, and a reading a moment after the last would show 0 % CPU.
		if !t.prev.at.IsZero() {
			t.cpu, t.measured = cpuPercent(t.prev, readings[i], vcpu), true
		}
		t.prev, t.rss = readings[i], readings[i].rss
	}
	desired := s.desired
	s.mu.Unlock()
	if !datapoint || s.scaler == nil {
		return
	}
	s.scaler.Record(values)
	for _, d := range s.scaler.Tick(desired) {
		s.mu.Lock()
		s.desired = d.To
		s.mu.Unlock()
		kind := EventScaleIn
		if d.ScaleOut() {
			kind = EventScaleOut
		}
		s.event(kind, "alarm %s at %.1f%%: desired count %d → %d", d.Alarm, d.Value, d.From, d.To)
	}
	s.wakeUp()
}
