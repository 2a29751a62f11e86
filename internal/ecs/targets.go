package ecs

import (
	"context"

	"github.com/decagon/decagon/internal/balancer"
)

// Health is a task's health as its target group reports it.
type Health string

// Target health, as ALB names it; HealthUnused for a task that is not registered.
const (
	HealthUnused    Health = "unused"
	HealthInitial   Health = "initial"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
	HealthDraining  Health = "draining"
)

// Targets is what the scheduler needs of a service's load balancer target group.
type Targets interface {
	// Register adds a task's address under its ID; health checks start.
	Register(id, addr string) error
	// Deregister stops sending new requests to the task and returns once its in-flight
	// requests have finished or the deregistration delay has passed, or when ctx is done.
	Deregister(ctx context.Context, id string) error
	// Health returns the task's target health.
	Health(id string) Health
}

// GroupTargets adapts a balancer target group to Targets.
func GroupTargets(g *balancer.Group) Targets { return groupTargets{g} }

type groupTargets struct{ g *balancer.Group }

func (t groupTargets) Register(id, addr string) error { return t.g.Register(id, addr) }

func (t groupTargets) Deregister(ctx context.Context, id string) error {
	t.g.Deregister(id)
	for {
		changed := t.g.Changed() // before looking, so that no removal is missed
		if t.find(id) == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (t groupTargets) Health(id string) Health {
	tg := t.find(id)
	if tg == nil {
		return HealthUnused
	}
	switch tg.State() {
	case balancer.StateHealthy:
		return HealthHealthy
	case balancer.StateUnhealthy:
		return HealthUnhealthy
	case balancer.StateDraining:
		return HealthDraining
	}
	return HealthInitial
}

func (t groupTargets) find(id string) *balancer.Target {
	for _, tg := range t.g.Targets() {
		if tg.ID == id {
			return tg
		}
	}
	return nil
}
