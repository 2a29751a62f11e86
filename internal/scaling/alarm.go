package scaling

import (
	"math"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// State is a CloudWatch alarm state.
type State string

// Alarm states, spelled as CloudWatch spells them.
const (
	StateInsufficientData State = "INSUFFICIENT_DATA"
	StateOK               State = "OK"
	StateAlarm            State = "ALARM"
)

// alarm is one CloudWatch alarm on the service metric, evaluated at the end of each period.
type alarm struct {
	step   topology.Step
	period time.Duration // scaled
	above  bool          // GreaterThanThreshold (scale out) or LessThanThreshold (scale in)

	state     State
	value     float64 // the statistic of the last period that had data
	hasValue  bool
	updatedAt time.Time

	start   time.Time // of the open period
	points  []float64 // the open period's datapoints, already reduced over the tasks
	history []bool    // breaches of the last EvaluationPeriods periods with data, oldest first
}

func newAlarm(step topology.Step, period time.Duration, above bool, start time.Time) *alarm {
	return &alarm{step: step, period: period, above: above, state: StateInsufficientData, start: start, updatedAt: start}
}

// roll closes every period that ended before now (or at now, when inclusive) and evaluates
// the alarm for each. It reports whether the state changed.
func (a *alarm) roll(now time.Time, inclusive bool) (changed bool) {
	for {
		end := a.start.Add(a.period)
		if end.After(now) || (!inclusive && end.Equal(now)) {
			return changed
		}
		if a.close(end) {
			changed = true
		}
		a.start = end
	}
}

// close evaluates the period that ends at end. A period without datapoints is missing data,
// which leaves the alarm as it is.
func (a *alarm) close(end time.Time) (changed bool) {
	points := a.points
	a.points = nil
	if len(points) == 0 {
		return false
	}
	v := reduce(a.step.Statistic, points)
	a.value, a.hasValue = v, true
	breach := v < a.step.Threshold
	if a.above {
		breach = v > a.step.Threshold
	}
	a.history = append(a.history, breach)
	if n := a.step.EvaluationPeriods; len(a.history) > n {
		a.history = a.history[len(a.history)-n:]
	}
	next := StateOK
	if len(a.history) == a.step.EvaluationPeriods && allTrue(a.history) {
		next = StateAlarm
	}
	a.updatedAt = end
	if next != a.state {
		a.state = next
		return true
	}
	return false
}

// reduce applies a CloudWatch statistic. Minimum of minimums and maximum of maximums are the
// extremes of every task over the period; Average averages the datapoints' averages.
func reduce(statistic string, values []float64) float64 {
	switch statistic {
	case "Minimum":
		v := math.Inf(1)
		for _, x := range values {
			v = math.Min(v, x)
		}
		return v
	case "Maximum":
		v := math.Inf(-1)
		for _, x := range values {
			v = math.Max(v, x)
		}
		return v
	default: // Average; topology accepts nothing else
		sum := 0.0
		for _, x := range values {
			sum += x
		}
		return sum / float64(len(values))
	}
}

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}

// AlarmStatus is an alarm as the admin API shows it.
type AlarmStatus struct {
	// Name is the alarm's name from decagon.yaml.
	Name string `json:"name"`
	// Statistic is Minimum, Maximum or Average.
	Statistic string `json:"statistic"`
	// Comparison is GreaterThanThreshold or LessThanThreshold.
	Comparison string `json:"comparison"`
	// Threshold is in percent of the tasks' reserved CPU (or memory).
	Threshold float64 `json:"threshold"`
	// Period is the scaled period.
	Period time.Duration `json:"-"`
	// PeriodSeconds is Period in seconds, for JSON.
	PeriodSeconds float64 `json:"period_seconds"`
	// EvaluationPeriods is the number of consecutive periods that must breach.
	EvaluationPeriods int `json:"evaluation_periods"`
	// Adjustment is the policy's change in task count.
	Adjustment int `json:"adjustment"`
	// State is INSUFFICIENT_DATA, OK or ALARM.
	State State `json:"state"`
	// Value is the statistic of the last period with data; nil before the first.
	Value *float64 `json:"value"`
	// UpdatedAt is the end of the last period evaluated with data.
	UpdatedAt time.Time `json:"updated_at"`
}

func (a *alarm) status() AlarmStatus {
	s := AlarmStatus{
		Name: a.step.AlarmName, Statistic: a.step.Statistic, Comparison: "LessThanThreshold",
		Threshold: a.step.Threshold, Period: a.period, PeriodSeconds: a.period.Seconds(), EvaluationPeriods: a.step.EvaluationPeriods,
		Adjustment: a.step.Adjustment, State: a.state, UpdatedAt: a.updatedAt,
	}
	if a.above {
		s.Comparison = "GreaterThanThreshold"
	}
	if a.hasValue {
		v := a.value
		s.Value = &v
	}
	return s
}
