// Package scaling is ECS service auto scaling as decagon.yaml describes it, for the local stack:
// the service metric as ECS computes it from per-task utilization, the two CloudWatch alarms
// (statistic, threshold, period, evaluation periods) and the two step scaling policies
// (adjustment, cooldown) of Application Auto Scaling, between the service's min and max tasks.
// AWS runs its own; this package gives `decagon dev` the same behaviour from the same values.
//
// The caller records one datapoint per Resolution (a minute, divided by the speed-up): the
// utilization of every running task over that interval, in percent of the task's reserved
// CPU. Tick then evaluates:
//
//	datapoint     Minimum / Maximum / Average over the tasks (ECS: the least busy task, the
//	              busiest one, or the service's total over its reservation)
//	alarm period  the same statistic over the period's datapoints; a period without any is
//	              missing data and is ignored (TreatMissingData: ignore, as the infra sets it)
//	alarm state   INSUFFICIENT_DATA until the first period ends; ALARM when the last
//	              EvaluationPeriods periods all breach (> threshold to scale out, < threshold
//	              to scale in), OK otherwise
//	policy        invoked once per Resolution while its alarm is in ALARM (CloudWatch re-invokes
//	              scaling actions every minute); ChangeInCapacity by the adjustment, clamped to
//	              min..max; a change that clamps to nothing is no activity and starts no cooldown
//	cooldown      per policy: a scale-out during its cooldown adds nothing (the capacity it
//	              added counts); a scale-in waits its cooldown out; a scale-out ends the
//	              scale-in cooldown (Application Auto Scaling's step scaling rules)
//
// Speedup divides every period, the cooldown and the resolution, so that with 60 a 5-minute
// period lasts 5 s. Time comes from a Clock; FakeClock drives the tests.
//
// This package imports only the standard library and internal/topology.
package scaling
