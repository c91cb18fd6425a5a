package server

import (
	"context"
	"time"
)

// Test hooks.

// JSONFields names fields as the JSON endpoint does.
var JSONFields = jsonFields

func SetQueuedHook(s *Server, f func(key string)) { s.order.queued = f }
func LockConversation(s *Server, key string)      { s.order.Lock(key) }
func UnlockConversation(s *Server, key string)    { s.order.Unlock(key) }

// RunWorkers runs the timer and delivery workers on the given ticks.
func RunWorkers(s *Server, ctx context.Context, timerTicks, deliveryTicks <-chan time.Time) {
	s.runWorkers(ctx, timerTicks, deliveryTicks)
}

// PerDestination is how many deliveries one destination may hold.
const PerDestination = perDestination

// TimerWorkers is how many timers one process fires at once.
const TimerWorkers = timerWorkers
