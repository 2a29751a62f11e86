// Package ecs is the local stack's ECS: services whose tasks are child processes, scheduled
// as Amazon ECS schedules a Fargate service.
//
// A task is one process (`decagon serve <service>` in the stack, any command in tests) on its
// own loopback port, with its pid, start time, CPU in percent of the task's vCPU (from the
// utime and stime ticks of /proc/<pid>/stat) and resident memory (VmRSS of
// /proc/<pid>/status). With Config.TaskLimits each task runs in a cgroup of its size, below the
// stack's own cgroups: cpu.cfs_quota_us/cpu.cfs_period_us and memory.limit_in_bytes on cgroup
// v1, cpu.max and memory.max on v2. Where cgroups are not writable the service says so at start
// (a warning, and Status.Limits) and runs its tasks without limits.
//
// A Service keeps its desired count running:
//
//	start     spawn → PENDING → listening → registered in the target group → RUNNING
//	exit      a task whose process exits on its own is reaped, its target taken out at once,
//	          and a replacement started (event task-replaced, saying how it ended)
//	unhealthy a RUNNING task its target group reports unhealthy is stopped and replaced, as
//	          ECS does (after Config.HealthCheckGracePeriod)
//	stop      deregister and wait for the drain (the group's deregistration delay), then
//	          SIGTERM, then SIGKILL after StopTimeout
//	scaling   with Config.Scaling, the metric of the RUNNING tasks that have passed their
//	          health checks (CPU of their vCPU, or RSS of their memory for
//	          MemoryUtilization) is recorded every resolution into
//	          internal/scaling, whose decisions set the desired count (events scale-out,
//	          scale-in); scale-in stops tasks that are not healthy first, then the newest
//	deploy    Deploy starts a new revision; old tasks are replaced within the bounds ECS
//	          computes: at least ceil(desired × minHealthyPercent/100) healthy tasks, at most
//	          floor(desired × maxPercent/100) processes, stopping ones included. At 50/100
//	          with 2 tasks: stop one (drained first), start its replacement, wait for it to
//	          pass its health checks, then the next. Events deployment-started/-finished.
//
// A task that exits before it is RUNNING delays the next start (0.5 s doubling up to 30 s)
// so that a binary that cannot start does not spin. Events are kept newest first, bounded by
// Config.Events.
//
// The scheduler needs three things of the load balancer, the Targets interface (register,
// deregister-and-drain, health); GroupTargets adapts a *balancer.Group to it. This package
// imports the root package (error codes), internal/balancer (for that adapter),
// internal/scaling and internal/topology; it knows nothing of HTTP routing, the edge or the
// services' code.
//
// # In decagon dev
//
// internal/devstack runs one Service per service of decagon.yaml over the edge's target group
// (GroupTargets), with ConfigFor's counts, bounds and size, scaling.ConfigFor's policy at
// --scaling-speedup, TaskLimits from --task-limits, and ServeCommand's `decagon serve` of the
// stack's own binary with `--drain 0s` (the target group has drained a task when it gets
// SIGTERM). The tasks share the stack's data dir, database and object store; the stack applies
// the migrations and makes the store once before the first task starts. GET /_dev/services is
// Status() of each service, GET /_dev/targets adds the tasks' pid, CPU, memory and start time,
// POST /_dev/targets/{id}/stop is StopTask and POST /_dev/services/{name}/deploy is Deploy (its
// refusal, decagon.EConflict, a 409 through problem.From). On shutdown the stack drains its
// edge first, then cancels Run's context.
package ecs
