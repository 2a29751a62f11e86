package ecs

import (
	"slices"
	"sync"
	"time"
)

// EventKind names what happened to a service.
type EventKind string

// Event kinds.
const (
	EventScaleOut           EventKind = "scale-out"
	EventScaleIn            EventKind = "scale-in"
	EventTaskReplaced       EventKind = "task-replaced"
	EventDeploymentStarted  EventKind = "deployment-started"
	EventDeploymentFinished EventKind = "deployment-finished"
)

// Event is one entry of a service's event log, as `aws ecs describe-services` lists them.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	Message string    `json:"message"`
}

// DefaultEvents is how many events a service keeps when Config.Events is zero.
const DefaultEvents = 100

// eventLog keeps the last events, newest first when read.
type eventLog struct {
	mu   sync.Mutex
	max  int
	list []Event // oldest first
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
	if over := len(l.list) - l.max; over > 0 {
		l.list = slices.Delete(l.list, 0, over)
	}
}

// newestFirst returns a copy of the events, newest first.
func (l *eventLog) newestFirst() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]Event{}, l.list...) // [] rather than null in JSON before the first event
	slices.Reverse(out)
	return out
}
