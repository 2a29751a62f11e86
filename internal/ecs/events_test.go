package ecs

import (
	"fmt"
	"testing"
)

func TestEventLogIsBoundedNewestFirst(t *testing.T) {
	l := eventLog{max: 3}
	for i := range 5 {
		l.add(Event{Kind: EventScaleOut, Message: fmt.Sprint(i)})
	}
	got := l.newestFirst()
	if fmt.Sprintf("%d %s %s %s", len(got), got[0].Message, got[1].Message, got[2].Message) != "3 4 3 2" {
		t.Errorf("events %+v, want the last three, newest first", got)
	}
}
