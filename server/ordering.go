package server

import (
	"context"
	"sync"
)

// keyedFIFO serialises work per key in arrival order: Lock returns when
// every earlier Lock of the same key has been Unlocked. Unlike a
// sync.Mutex it is fair, which is what "handled in arrival order" needs.
type keyedFIFO struct {
	mu     sync.Mutex
	queues map[string][]chan struct{}
	queued func(key string) // test hook: called once a Lock has taken its place
}

func newKeyedFIFO() *keyedFIFO { return &keyedFIFO{queues: map[string][]chan struct{}{}} }

// Lock waits for key's turn.
func (k *keyedFIFO) Lock(key string) {
	k.mu.Lock()
	q := k.queues[key]
	ch := make(chan struct{})
	k.queues[key] = append(q, ch)
	first := len(q) == 0
	k.mu.Unlock()
	if k.queued != nil {
		k.queued(key)
	}
	if !first {
		<-ch
	}
}

// LockContext is Lock, giving up (and leaving the queue) when ctx is done
// first: a webhook waiting behind a stuck message of its conversation
// answers within its deadline.
func (k *keyedFIFO) LockContext(ctx context.Context, key string) error {
	k.mu.Lock()
	q := k.queues[key]
	ch := make(chan struct{})
	k.queues[key] = append(q, ch)
	first := len(q) == 0
	k.mu.Unlock()
	if k.queued != nil {
		k.queued(key)
	}
	if first {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	k.mu.Lock()
	select {
	case <-ch: // handed the turn meanwhile: pass it on
		k.mu.Unlock()
		k.Unlock(key)
		return ctx.Err()
	default:
	}
	q = k.queues[key] // ch is queued behind the holder (index ≥ 1)
	for i, c := range q {
		if c == ch {
			k.queues[key] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	k.mu.Unlock()
	return ctx.Err()
}

// Unlock hands key to the next waiter.
func (k *keyedFIFO) Unlock(key string) {
	k.mu.Lock()
	q := k.queues[key][1:]
	if len(q) == 0 {
		delete(k.queues, key)
	} else {
		k.queues[key] = q
		close(q[0])
	}
	k.mu.Unlock()
}
