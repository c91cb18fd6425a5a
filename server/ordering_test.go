package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFIFOWaiterGivesUpAtItsDeadline: a Lock waiting behind a holder
// returns the context's error when its context ends, and leaves the
// queue: the waiters behind it still get the key, in order, when the
// holder unlocks. (The webhook's deadline ends the wait this way.)
func TestFIFOWaiterGivesUpAtItsDeadline(t *testing.T) {
	k := newKeyedFIFO()
	queued := make(chan struct{}, 10)
	k.queued = func(string) { queued <- struct{}{} }
	if err := k.LockContext(context.Background(), "c"); err != nil { // the holder
		t.Fatal(err)
	}
	<-queued
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- k.LockContext(ctx, "c") }()
	<-queued
	got := make(chan string, 1)
	go func() {
		k.Lock("c")
		k.Unlock("c")
		got <- "third" // it had the key
	}()
	<-queued
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled waiter: %v", err)
	}
	select {
	case <-got:
		t.Fatal("the third waiter got the key while the holder has it")
	default:
	}
	k.Unlock("c")
	if w := <-got; w != "third" {
		t.Fatal(w)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.queues) != 0 {
		t.Fatalf("queues left: %v", k.queues)
	}
}

// TestFIFOTurnHandedToAWaiterThatGaveUp: a waiter whose context ends just
// as it is handed the key passes it on instead of keeping it.
func TestFIFOTurnHandedToAWaiterThatGaveUp(t *testing.T) {
	k := newKeyedFIFO()
	k.Lock("c")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // done before the wait begins: select may see either channel once handed
	queued := make(chan struct{}, 1)
	k.queued = func(string) { queued <- struct{}{} }
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- k.LockContext(ctx, "c") }()
	<-queued
	k.Unlock("c") // hands the key to the waiter, whose context is done
	if err := <-gaveUp; err == nil {
		k.Unlock("c") // it took its turn (the hand-over won the race): give it back
	}
	// Either way the key is free now, not kept by a waiter that left.
	wait, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := k.LockContext(wait, "c"); err != nil {
		t.Fatalf("the key stayed with the waiter that gave up: %v", err)
	}
	k.Unlock("c")
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.queues) != 0 {
		t.Fatalf("queues left: %v", k.queues)
	}
}
