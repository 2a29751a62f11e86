package ecs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/scaling"
	"github.com/decagon/decagon/internal/topology"
)

// Defaults of Config.
const (
	DefaultStartTimeout   = 30 * time.Second
	DefaultStopTimeout    = 30 * time.Second // ECS's container StopTimeout
	DefaultSampleInterval = time.Second
	// loopInterval is how often the scheduler looks at its tasks' health when nothing woke it.
	loopInterval = 100 * time.Millisecond
	// maxBackoff bounds the wait between starts after tasks failed to start.
	maxBackoff = 30 * time.Second
)

// Config configures a Service. Name, Command and Targets are required.
type Config struct {
	// Name is the service's name; tasks are named after it ("tests-3").
	Name string
	// Command returns the command of a new task that must listen on addr (127.0.0.1:port):
	// `decagon serve --addr <addr> <service>` in the stack.
	Command func(addr string) *exec.Cmd
	// Targets is the service's load balancer target group.
	Targets Targets
	// DesiredCount is the number of tasks at start; MinCount and MaxCount bound SetDesired.
	DesiredCount, MinCount, MaxCount int
	// Deployment bounds the tasks during a rolling deployment; 50/100 when zero.
	Deployment topology.Deployment
	// Limits is the task size: the base of CPU percentages, and the cgroup limits with
	// TaskLimits.
	Limits Limits
	// TaskLimits runs each task in a cgroup of its size when cgroups are writable; the
	// service says at start when they are not and runs without.
	TaskLimits bool
	// Scaling, when set, scales the desired count with the service's step scaling policy.
	Scaling *scaling.Config
	// StartTimeout bounds the wait for a new task to listen: DefaultStartTimeout when zero.
	StartTimeout time.Duration
	// StopTimeout is the time between SIGTERM and SIGKILL: DefaultStopTimeout when zero.
	StopTimeout time.Duration
	// DrainTimeout bounds the wait for a deregistered task to drain: StopTimeout when zero
	// (the target group's own deregistration delay is usually shorter).
	DrainTimeout time.Duration
	// HealthCheckGracePeriod ignores a new task's unhealthy reports for this long.
	HealthCheckGracePeriod time.Duration
	// SampleInterval is how often CPU and memory are read for Status: DefaultSampleInterval
	// when zero. With Scaling, the scaler's datapoints are read apart, once per its resolution
	// (a minute divided by the speed-up), each the utilization over that whole interval.
	SampleInterval time.Duration
	// Output receives the tasks' stdout and stderr unless Command sets them: os.Stderr when
	// nil.
	Output io.Writer
	// Events is how many events are kept: DefaultEvents when zero.
	Events int
	// Logger receives one line per event and per unusual exit: slog.Default() when nil.
	Logger *slog.Logger
}

// ConfigFor fills the counts, deployment bounds and task size of a service of decagon.yaml.
// The caller adds Command, Targets and what else it wants.
func ConfigFor(svc topology.Service) Config {
	return Config{
		Name:         svc.Name,
		DesiredCount: svc.DesiredCount, MinCount: svc.MinCount, MaxCount: svc.MaxCount,
		Deployment: svc.Deployment,
		Limits:     Limits{CPU: svc.CPU, MemoryMiB: svc.Memory, ReservationMiB: svc.MemoryReservation},
	}
}

// Service is an ECS service of child-process tasks: it keeps the desired count running,
// replaces tasks that exit or fail their health checks, applies scaling decisions and runs
// rolling deployments. Its methods are safe for concurrent use.
type Service struct {
	cfg        Config
	logger     *slog.Logger
	scaler     *scaling.Scaler
	cgroups    *cgroups
	limitsNote string
	events     eventLog
	wake       chan struct{}

	mu          sync.Mutex
	tasks       []*task // every task whose process has not been reaped
	desired     int
	revision    int
	deployment  *Deployment
	seq         int
	replaced    []string // why tasks were lost, for the events of their replacements
	backoff     time.Duration
	nextStart   time.Time
	lastFailure time.Time      // of the last task that did not start
	bg          sync.WaitGroup // the goroutines that register and stop tasks
	running     bool
	ctx         context.Context // Run's, for the goroutines it starts
}

// Deployment is a rolling deployment in progress.
type Deployment struct {
	// ID counts the deployments of the service: 1 is the first after start.
	ID int `json:"id"`
	// StartedAt is when it started.
	StartedAt time.Time `json:"started_at"`
}

// New checks cfg and returns a service that starts its tasks when Run is called.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("ecs: service without a name")
	case cfg.Command == nil:
		return nil, fmt.Errorf("ecs: service %s: no command", cfg.Name)
	case cfg.Targets == nil:
		return nil, fmt.Errorf("ecs: service %s: no target group", cfg.Name)
	case cfg.DesiredCount < 0 || cfg.MinCount < 0 || (cfg.MaxCount > 0 && cfg.MaxCount < cfg.MinCount):
		return nil, fmt.Errorf("ecs: service %s: counts desired %d, min %d, max %d", cfg.Name, cfg.DesiredCount, cfg.MinCount, cfg.MaxCount)
	}
	if cfg.Deployment == (topology.Deployment{}) {
		cfg.Deployment = topology.Deployment{MinHealthyPercent: 50, MaxPercent: 100}
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = cfg.StopTimeout
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = DefaultSampleInterval
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.Events <= 0 {
		cfg.Events = DefaultEvents
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, logger: cfg.Logger.With("service", cfg.Name), desired: cfg.DesiredCount,
		wake: make(chan struct{}, 1), events: eventLog{max: cfg.Events}}
	if cfg.Scaling != nil {
		sc, err := scaling.New(*cfg.Scaling)
		if err != nil {
			return nil, fmt.Errorf("ecs: service %s: %w", cfg.Name, err)
		}
		s.scaler = sc
	}
	if cfg.TaskLimits {
		cg, err := detectCgroups()
		if err != nil {
			s.limitsNote = fmt.Sprintf("task limits off: %v", err)
			s.logger.Warn("tasks run without cpu and memory limits", "reason", err.Error())
		} else {
			s.cgroups = cg
			s.limitsNote = fmt.Sprintf("each task in a cgroup of %d CPU units and %d MiB", cfg.Limits.CPU, cfg.Limits.MemoryMiB)
		}
	}
	return s, nil
}

// Name returns the service's name.
func (s *Service) Name() string { return s.cfg.Name }

// Run starts the desired tasks and schedules them until ctx is done; then it stops every task
// (SIGTERM, SIGKILL after StopTimeout) and returns once they have exited.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return fmt.Errorf("ecs: service %s already runs", s.cfg.Name)
	}
	s.running, s.ctx = true, ctx
	s.mu.Unlock()
	tick := time.NewTicker(loopInterval)
	defer tick.Stop()
	sample := time.NewTicker(s.cfg.SampleInterval)
	defer sample.Stop()
	var datapoint <-chan time.Time // the scaler's resolution; never without scaling
	if s.scaler != nil {
		t := time.NewTicker(s.scaler.Resolution())
		defer t.Stop()
		datapoint = t.C
	}
	for {
		s.reconcile()
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-s.wake:
		case <-tick.C:
		case <-sample.C:
			s.sample(false)
		case <-datapoint:
			s.sample(true)
		}
	}
}

// wakeUp makes Run reconcile at once.
func (s *Service) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// event records and logs an event.
func (s *Service) event(kind EventKind, format string, args ...any) {
	e := Event{Time: time.Now(), Kind: kind, Message: fmt.Sprintf("(service %s) ", s.cfg.Name) + fmt.Sprintf(format, args...)}
	s.events.add(e)
	s.logger.Info(e.Message, "event", string(kind))
}

// SetDesired sets the desired count, as `aws ecs update-service --desired-count` does; a
// negative count is decagon.EInvalid. Scaling moves it again within min..max.
func (s *Service) SetDesired(n int) error {
	if n < 0 {
		return decagon.Errorf(decagon.EInvalid, "desired count %d is below 0", n)
	}
	s.mu.Lock()
	s.desired = n
	s.mu.Unlock()
	s.wakeUp()
	return nil
}

// Deploy starts a rolling deployment that replaces every task with a new one, as
// `aws ecs update-service --force-new-deployment` does; a deployment in progress is
// superseded. It fails with decagon.EConflict when the deployment bounds leave no room to
// replace a task.
func (s *Service) Deploy() (Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lower, upper := s.bounds()
	if s.desired > 0 && upper <= s.desired && s.desired-1 < lower {
		return Deployment{}, decagon.Errorf(decagon.EConflict, "service %s: with %d tasks, minimum healthy %d%% and maximum %d%% leave no room to replace a task",
			s.cfg.Name, s.desired, s.cfg.Deployment.MinHealthyPercent, s.cfg.Deployment.MaxPercent)
	}
	s.revision++
	s.deployment = &Deployment{ID: s.revision, StartedAt: time.Now()}
	s.event(EventDeploymentStarted, "deployment %d started: %d tasks to replace, at least %d healthy, at most %d running",
		s.revision, s.countLive(func(t *task) bool { return t.revision < s.revision }), lower, upper)
	s.wakeUp()
	return *s.deployment, nil
}

// bounds returns the deployment's lower bound of healthy tasks (rounded up) and upper bound of
// running tasks (rounded down), as ECS computes them; s.mu is held.
func (s *Service) bounds() (lower, upper int) {
	d := s.cfg.Deployment
	lower = (s.desired*d.MinHealthyPercent + 99) / 100
	upper = s.desired * d.MaxPercent / 100
	return lower, upper
}

// StopTask deregisters, drains and stops a task, as `aws ecs stop-task` does; the scheduler
// then replaces it. It reports whether the task was found.
func (s *Service) StopTask(id, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		if t.id == id && t.state != TaskStopping {
			s.replaced = append(s.replaced, fmt.Sprintf("task %s stopped (%s)", id, reason))
			s.stopTask(t, reason)
			s.wakeUp()
			return true
		}
	}
	return false
}

// countLive counts the tasks that are neither stopping nor exited that match; s.mu is held.
func (s *Service) countLive(match func(*task) bool) int {
	n := 0
	for _, t := range s.tasks {
		if t.state != TaskStopping && match(t) {
			n++
		}
	}
	return n
}
