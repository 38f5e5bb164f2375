package chaos

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCallWedgedSlot: a request that outlives its caller keeps the link's
// slot; later requests on the link fail at once instead of queueing behind
// it, Close can wait for it, and the slot works again once it returns.
func TestCallWedgedSlot(t *testing.T) {
	var tr tracker
	sl := &slot{ch: make(chan struct{}, 1)}
	release := make(chan struct{})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := call(ctx, &tr, sl, func() (int, error) { <-release; return 1, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung request: err = %v, want deadline exceeded", err)
	}

	// Queued behind the hung request, this call would end with its
	// context's deadline; failing fast, it ends with errWedged first.
	long, cancelLong := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelLong()
	_, err := call(long, &tr, sl, func() (int, error) { return 2, nil })
	if !errors.Is(err, errWedged) {
		t.Fatalf("request behind a hung one: err = %v, want errWedged before its deadline", err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := tr.wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("tracker.wait with a request in flight = %v", err)
	}

	close(release)
	if err := tr.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := call(context.Background(), &tr, sl, func() (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Fatalf("after the hung request returned: %v, %v", v, err)
	}
}

// TestCallWaitsForBusySlot: a slot held by a request that is merely slow is
// waited for, within the caller's context.
func TestCallWaitsForBusySlot(t *testing.T) {
	var tr tracker
	sl := &slot{ch: make(chan struct{}, 1)}
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := call(context.Background(), &tr, sl, func() (int, error) {
			close(started)
			time.Sleep(50 * time.Millisecond)
			return 1, nil
		})
		done <- err
	}()
	<-started
	if v, err := call(context.Background(), &tr, sl, func() (int, error) { return 2, nil }); v != 2 || err != nil {
		t.Fatalf("second request: %v, %v", v, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	sl.ch <- struct{}{} // held by someone else, not stuck
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := call(ctx, &tr, sl, func() (int, error) { return 3, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a busy slot past the deadline: %v", err)
	}
	<-sl.ch
}
