package topology

import (
	"errors"
	"math"
)

// MaxOverrideRate bounds OverrideStageThrottling's rate: far past API Gateway's account limit,
// for load tests of the local edge, yet a finite number of tokens per second.
const MaxOverrideRate = 1e9

// OverrideStageThrottling replaces the stage's rate (requests per second) and burst limit on a
// validated topology, for load tests of the local edge that go past API Gateway's account
// limits (10,000 requests/s, burst 5,000), which decagon.yaml is held to. A zero rate or burst
// keeps decagon.yaml's value. The override is validated like a document value and applied
// only when valid, so the topology never holds a setting no validation has seen; it never
// reaches AWS, which reads decagon.yaml itself.
func (t *Topology) OverrideStageThrottling(rate float64, burst int) error {
	var errs []error
	if rate < 0 || rate > MaxOverrideRate || math.IsNaN(rate) {
		errs = append(errs, &FieldError{Path: "stage.throttling.rateLimit",
			Msg: "override must be 0 (keep) or more than 0 and at most 1e9 requests per second"})
	}
	if burst < 0 || burst > math.MaxInt32 {
		errs = append(errs, &FieldError{Path: "stage.throttling.burstLimit",
			Msg: "override must be 0 (keep) or a positive number of requests"})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if rate > 0 {
		t.Stage.Throttling.RateLimit = rate
	}
	if burst > 0 {
		t.Stage.Throttling.BurstLimit = burst
	}
	return nil
}
