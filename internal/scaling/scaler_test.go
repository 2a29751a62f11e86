package scaling

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// tests returns the tests service of the repository's decagon.yaml: the values the
// CloudFormation alarms get.
func tests(t *testing.T) topology.Service {
	t.Helper()
	topo, err := topology.Load("../../decagon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := topo.Service("tests")
	if !ok {
		t.Fatal("decagon.yaml has no tests service")
	}
	return *svc
}

// load gives the utilization of each of n tasks for one datapoint.
type load func(n int) []float64

func every(v float64) load { return func(n int) []float64 { return slices.Repeat([]float64{v}, n) } }

// oneAt gives every task hot except the first, which runs at v.
func oneAt(v, hot float64) load {
	return func(n int) []float64 { out := every(hot)(n); out[0] = v; return out }
}

// phases runs loads one after the other, each for a number of resolutions.
type phase struct {
	load  load
	steps int
}

type change struct {
	At       time.Duration // since start, on the fake clock
	From, To int
}

func (c change) String() string { return fmt.Sprintf("%s:%d→%d", c.At, c.From, c.To) }

// simulate records one datapoint per resolution and applies every decision, as the scheduler
// does, starting at desired tasks.
func simulate(t *testing.T, cfg Config, desired int, phases []phase) ([]change, *Scaler) {
	t.Helper()
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	clock := NewFakeClock(start)
	cfg.Clock = clock
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []change
	for _, p := range phases {
		for range p.steps {
			clock.Advance(s.Resolution())
			if p.load != nil {
				s.Record(p.load(desired))
			}
			for _, d := range s.Tick(desired) {
				if d.From != desired {
					t.Fatalf("decision from %d, desired is %d", d.From, desired)
				}
				got = append(got, change{At: clock.Now().Sub(start), From: d.From, To: d.To})
				desired = d.To
			}
		}
	}
	return got, s
}

func TestScalerOnDecagonYAML(t *testing.T) {
	svc := tests(t)
	if svc.MinCount != 2 || svc.MaxCount != 4 || svc.Scaling.ScaleOut.Threshold != 70 || svc.Scaling.ScaleIn.Threshold != 50 ||
		svc.Scaling.ScaleOut.Statistic != "Minimum" || svc.Scaling.ScaleOut.Period != 5*time.Minute || svc.Scaling.Cooldown != 5*time.Minute {
		t.Fatalf("decagon.yaml's tests service changed; update the cases: %+v", svc.Scaling)
	}
	long := func(c Config) Config { c.Scaling.Cooldown = 12 * time.Minute; return c }
	m := time.Minute
	cases := []struct {
		name    string
		speedup int
		tweak   func(Config) Config
		desired int
		phases  []phase
		want    []change
	}{
		{name: "above 70 for a period adds a task each period up to max 4",
			desired: 2, phases: []phase{{every(90), 30}},
			want: []change{{5 * m, 2, 3}, {10 * m, 3, 4}}},
		{name: "the Minimum statistic: one task at 60 keeps the alarm OK",
			desired: 2, phases: []phase{{oneAt(60, 95), 30}}},
		{name: "one minute below 70 in the period keeps the alarm OK",
			desired: 2, phases: []phase{{every(90), 4}, {every(65), 1}, {every(90), 4}, {every(90), 1}},
			want: []change{{10 * m, 2, 3}}},
		{name: "exactly 70 does not breach GreaterThanThreshold",
			desired: 2, phases: []phase{{every(70), 20}}},
		{name: "below 50 removes a task each period down to min 2",
			desired: 4, phases: []phase{{every(10), 30}},
			want: []change{{5 * m, 4, 3}, {10 * m, 3, 2}}},
		{name: "between the thresholds nothing happens",
			desired: 3, phases: []phase{{every(60), 30}}},
		{name: "no datapoints: INSUFFICIENT_DATA, no scaling",
			desired: 2, phases: []phase{{nil, 30}}},
		{name: "load that stops: out to 4, then back to 2",
			desired: 2, phases: []phase{{every(95), 15}, {every(5), 15}},
			want: []change{{5 * m, 2, 3}, {10 * m, 3, 4}, {20 * m, 4, 3}, {25 * m, 3, 2}}},
		{name: "a 12-minute cooldown holds the second scale-out although the alarm stays in ALARM",
			tweak: long, desired: 2, phases: []phase{{every(90), 20}},
			want: []change{{5 * m, 2, 3}, {17 * m, 3, 4}}},
		{name: "a 12-minute cooldown holds the second scale-in",
			tweak: long, desired: 4, phases: []phase{{every(10), 20}},
			want: []change{{5 * m, 4, 3}, {17 * m, 3, 2}}},
		{name: "a scale-out ends the scale-in cooldown",
			tweak: long, desired: 3, phases: []phase{{every(10), 5}, {every(90), 5}, {every(10), 5}},
			want: []change{{5 * m, 3, 2}, {10 * m, 2, 3}, {15 * m, 3, 2}}},
		{name: "speedup 60: a 300 s period takes 5 s, the cooldown 5 s",
			speedup: 60, desired: 2, phases: []phase{{every(90), 30}, {every(5), 30}},
			want: []change{{5 * time.Second, 2, 3}, {10 * time.Second, 3, 4}, {35 * time.Second, 4, 3}, {40 * time.Second, 3, 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ConfigFor(svc, tc.speedup)
			if tc.tweak != nil {
				cfg = tc.tweak(cfg)
			}
			got, _ := simulate(t, cfg, tc.desired, tc.phases)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("changes = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSpeedupScalesTime(t *testing.T) {
	svc := tests(t)
	for _, tc := range []struct {
		speedup                      int
		period, cooldown, resolution time.Duration
	}{
		{1, 300 * time.Second, 300 * time.Second, time.Minute},
		{60, 5 * time.Second, 5 * time.Second, time.Second},
		{300, time.Second, time.Second, 200 * time.Millisecond},
	} {
		cfg := ConfigFor(svc, tc.speedup)
		cfg.Clock = NewFakeClock(time.Unix(0, 0))
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		st := s.Status()
		for _, a := range st.Alarms {
			if a.Period != tc.period {
				t.Errorf("speedup %d: %s period = %s, want %s", tc.speedup, a.Name, a.Period, tc.period)
			}
		}
		if s.Cooldown() != tc.cooldown || s.Resolution() != tc.resolution {
			t.Errorf("speedup %d: cooldown %s, resolution %s; want %s, %s", tc.speedup, s.Cooldown(), s.Resolution(), tc.cooldown, tc.resolution)
		}
	}
	if _, err := New(Config{Scaling: svc.Scaling, Min: 2, Max: 4, Speedup: -1}); err == nil {
		t.Error("New accepted a negative speedup")
	}
}

func TestAlarmStatus(t *testing.T) {
	svc := tests(t)
	_, s := simulate(t, ConfigFor(svc, 60), 2, []phase{{every(85), 5}})
	st := s.Status()
	out, in := st.Alarms[0], st.Alarms[1]
	if out.Name != "ECS_Fargate_Container_Scaleout_CPU_Utilisation" || out.State != StateAlarm ||
		out.Value == nil || *out.Value != 85 || out.Comparison != "GreaterThanThreshold" {
		t.Errorf("scale-out alarm = %+v", out)
	}
	if in.Name != "ECS_Fargate_Container_Scalein_CPU_Utilisation" || in.State != StateOK || in.Comparison != "LessThanThreshold" {
		t.Errorf("scale-in alarm = %+v", in)
	}
	if st.ScaleOutCooldownUntil.IsZero() {
		t.Error("no scale-out cooldown after a scale-out")
	}
	_, s = simulate(t, ConfigFor(svc, 60), 2, []phase{{every(85), 4}})
	if got := s.Status().Alarms[0].State; got != StateInsufficientData {
		t.Errorf("before the first period ends the state is %s, want INSUFFICIENT_DATA", got)
	}
}

func TestFakeClockAfter(t *testing.T) {
	c := NewFakeClock(time.Unix(0, 0))
	early, late := c.After(time.Second), c.After(time.Minute)
	c.Advance(2 * time.Second)
	select {
	case <-early:
	default:
		t.Fatal("After(1s) did not fire at +2s")
	}
	select {
	case <-late:
		t.Fatal("After(1m) fired at +2s")
	default:
	}
	if c.Waiters() != 1 {
		t.Errorf("waiters = %d, want 1", c.Waiters())
	}
}
