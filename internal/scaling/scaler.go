package scaling

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// minute is how often ECS publishes a datapoint and CloudWatch re-invokes a scaling action
// while its alarm stays in ALARM.
const minute = time.Minute

// Config configures a Scaler.
type Config struct {
	// Scaling is the service's scaling section of decagon.yaml.
	Scaling topology.Scaling
	// Min and Max bound the task count (minCount, maxCount).
	Min, Max int
	// Speedup divides every period, the cooldown and the resolution; 1 when zero.
	Speedup int
	// Clock tells the time; RealClock when nil.
	Clock Clock
}

// ConfigFor returns the scaling configuration of a service of decagon.yaml.
func ConfigFor(svc topology.Service, speedup int) Config {
	return Config{Scaling: svc.Scaling, Min: svc.MinCount, Max: svc.MaxCount, Speedup: speedup}
}

// Decision is one scaling activity: the desired count goes From → To.
type Decision struct {
	// Time is when the policy was invoked.
	Time time.Time
	// Alarm is the name of the alarm whose policy acted.
	Alarm string
	// Value is the alarm's last statistic, in percent.
	Value float64
	// From and To are the desired counts before and after.
	From, To int
}

// ScaleOut reports whether the decision adds tasks.
func (d Decision) ScaleOut() bool { return d.To > d.From }

// Scaler is the two alarms and two step scaling policies of one service. It is safe for
// concurrent use.
type Scaler struct {
	clock      Clock
	lo, hi     int // min and max tasks
	cooldown   time.Duration
	resolution time.Duration

	mu          sync.Mutex
	out, in     *alarm
	outInvoked  time.Time // last invocation of each policy while its alarm is in ALARM
	inInvoked   time.Time
	outCoolDown time.Time // end of each policy's cooldown
	inCoolDown  time.Time
}

// New returns a scaler whose periods start now.
func New(cfg Config) (*Scaler, error) {
	if cfg.Speedup == 0 {
		cfg.Speedup = 1
	}
	if cfg.Speedup < 1 {
		return nil, fmt.Errorf("scaling: speedup must be at least 1, got %d", cfg.Speedup)
	}
	if cfg.Min < 0 || cfg.Max < cfg.Min {
		return nil, fmt.Errorf("scaling: need 0 <= min <= max, got %d..%d", cfg.Min, cfg.Max)
	}
	for _, st := range []topology.Step{cfg.Scaling.ScaleOut, cfg.Scaling.ScaleIn} {
		if st.Period <= 0 || st.EvaluationPeriods < 1 {
			return nil, errors.New("scaling: every alarm needs a period and at least one evaluation period")
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	n := time.Duration(cfg.Speedup)
	now := cfg.Clock.Now()
	return &Scaler{
		clock:      cfg.Clock,
		lo:         cfg.Min,
		hi:         cfg.Max,
		cooldown:   cfg.Scaling.Cooldown / n,
		resolution: minute / n,
		out:        newAlarm(cfg.Scaling.ScaleOut, cfg.Scaling.ScaleOut.Period/n, true, now),
		in:         newAlarm(cfg.Scaling.ScaleIn, cfg.Scaling.ScaleIn.Period/n, false, now),
	}, nil
}

// Resolution is how often the caller should Record a datapoint and call Tick: a minute divided
// by the speed-up.
func (s *Scaler) Resolution() time.Duration { return s.resolution }

// Cooldown is each policy's scaled cooldown.
func (s *Scaler) Cooldown() time.Duration { return s.cooldown }

// Record adds one datapoint: the utilization of every running task over the last Resolution,
// in percent of its reservation. No tasks is no datapoint.
func (s *Scaler) Record(tasks []float64) {
	if len(tasks) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, a := range []*alarm{s.out, s.in} {
		a.roll(now, false)
		a.points = append(a.points, reduce(a.step.Statistic, tasks))
	}
}

// Tick evaluates the alarms whose period has ended and invokes the policy of an alarm in
// ALARM, given the current desired count. It returns the scaling activities, at most one per
// policy; the caller applies them in order.
func (s *Scaler) Tick(desired int) []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []Decision
	if s.out.roll(now, true) {
		s.outInvoked = time.Time{} // a new ALARM invokes at once
	}
	if s.in.roll(now, true) {
		s.inInvoked = time.Time{}
	}
	if s.invoke(s.out, &s.outInvoked, now) && !now.Before(s.outCoolDown) {
		if to := s.clamp(desired + s.out.step.Adjustment); to != desired {
			out = append(out, Decision{Time: now, Alarm: s.out.step.AlarmName, Value: s.out.value, From: desired, To: to})
			desired = to
			s.outCoolDown = now.Add(s.cooldown)
			s.inCoolDown = time.Time{} // a scale-out ends the scale-in cooldown
		}
	}
	if s.invoke(s.in, &s.inInvoked, now) && !now.Before(s.inCoolDown) {
		if to := s.clamp(desired + s.in.step.Adjustment); to != desired {
			out = append(out, Decision{Time: now, Alarm: s.in.step.AlarmName, Value: s.in.value, From: desired, To: to})
			s.inCoolDown = now.Add(s.cooldown)
		}
	}
	return out
}

// invoke reports whether the alarm's policy runs now: the alarm is in ALARM and its last
// invocation is at least one resolution old.
func (s *Scaler) invoke(a *alarm, last *time.Time, now time.Time) bool {
	if a.state != StateAlarm {
		return false
	}
	if !last.IsZero() && now.Sub(*last) < s.resolution {
		return false
	}
	*last = now
	return true
}

func (s *Scaler) clamp(n int) int { return max(s.lo, min(s.hi, n)) }

// Status is the scaler as the admin API shows it.
type Status struct {
	// Alarms are the scale-out alarm, then the scale-in alarm.
	Alarms []AlarmStatus `json:"alarms"`
	// CooldownSeconds is each policy's scaled cooldown.
	CooldownSeconds float64 `json:"cooldown_seconds"`
	// ScaleOutCooldownUntil and ScaleInCooldownUntil are the ends of the policies' cooldowns,
	// zero when none is running.
	ScaleOutCooldownUntil time.Time `json:"scale_out_cooldown_until"`
	ScaleInCooldownUntil  time.Time `json:"scale_in_cooldown_until"`
}

// Status returns the alarms' states and last values and the cooldowns.
func (s *Scaler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	st := Status{Alarms: []AlarmStatus{s.out.status(), s.in.status()}, CooldownSeconds: s.cooldown.Seconds()}
	if now.Before(s.outCoolDown) {
		st.ScaleOutCooldownUntil = s.outCoolDown
	}
	if now.Before(s.inCoolDown) {
		st.ScaleInCooldownUntil = s.inCoolDown
	}
	return st
}
