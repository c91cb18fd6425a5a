package server

import "sync"

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
