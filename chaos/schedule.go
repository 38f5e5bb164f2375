package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/collide-dev/collide/profiles"
)

// Schedule is a running fault schedule, started by Run. Each fault is added
// at its From offset and removed after its For duration, both measured from
// the moment Run was called; a fault with For 0 stays until the schedule ends.
//
// The schedule ends when attackLen has passed (if > 0), when Stop is called,
// when Run's context is done, when the first error occurs, or when every fault
// has been added and removed, whichever comes first. On ending, pending faults
// are not added and the faults it added are removed. A fault whose From is at
// or after the end is never added.
type Schedule struct {
	c     *Chaos
	start time.Time
	ctx   context.Context // done when the schedule must end
	halt  context.CancelFunc
	done  chan struct{}
	errc  chan error
	once  sync.Once
	err   error
}

// FaultError is a schedule's failure to add or remove one fault.
type FaultError struct {
	// Index is the fault's position in the list given to Run (and in the
	// profile's chaos list).
	Index int
	// Fault is the fault as given.
	Fault profiles.Fault
	// Op is "apply" or "remove".
	Op string
	// Offset is when the failure happened, relative to the schedule start.
	Offset time.Duration
	Err    error
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("chaos[%d] (%s on %s, from %s): %s at +%s: %v",
		e.Index, e.Fault.Fault, e.Fault.Link, e.Fault.From, e.Op,
		e.Offset.Round(time.Millisecond), e.Err)
}

func (e *FaultError) Unwrap() error { return e.Err }

// Run starts a schedule of faults on the links named by each fault's Link,
// relative to now; attackLen (0: no limit) is when the schedule ends and the
// remaining faults are removed. Timeline offsets are measured from this call.
//
// Run checks every fault's kind and fields (profiles.Fault.Spec) and that
// its link exists before starting anything; such errors return at once. Failures while running (the server
// refusing a toxic, the API gone) end the schedule and are delivered by Err
// as soon as they occur, and by Wait and Stop.
func (c *Chaos) Run(ctx context.Context, faults []profiles.Fault, attackLen time.Duration) (*Schedule, error) {
	if attackLen < 0 {
		return nil, fmt.Errorf("attack length must not be negative, got %s", attackLen)
	}
	for i, f := range faults {
		if _, _, err := f.Spec(); err != nil {
			return nil, fmt.Errorf("chaos[%d].%w", i, err)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, ErrClosed
	}
	for i, f := range faults {
		if ls := c.links[f.Link]; ls == nil || ls.proxy == nil {
			return nil, fmt.Errorf("chaos[%d].link: %w", i, c.noLinkErrLocked(f.Link))
		}
	}
	s := &Schedule{
		c:     c,
		start: time.Now(),
		done:  make(chan struct{}),
		errc:  make(chan error, 1),
	}
	if attackLen > 0 {
		s.ctx, s.halt = context.WithDeadline(ctx, s.start.Add(attackLen))
	} else {
		s.ctx, s.halt = context.WithCancel(ctx)
	}
	c.epoch = s.start
	c.schedules[s] = struct{}{}

	var wg sync.WaitGroup
	for i, f := range faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runFault(i, f)
		}()
	}
	go func() {
		wg.Wait()
		s.halt()
		c.mu.Lock()
		delete(c.schedules, s)
		c.mu.Unlock()
		close(s.done)
	}()
	return s, nil
}

func (s *Schedule) runFault(i int, f profiles.Fault) {
	at := s.start.Add(f.From.D())
	if !sleepUntil(s.ctx, at) {
		return
	}
	// The add itself is not cut short by the schedule ending: a toxic that
	// lands is then removed below, so the schedule never leaves one behind.
	actx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), opTimeout)
	toxic, err := s.c.Apply(actx, f.Link, f)
	cancel()
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			s.fail(&FaultError{Index: i, Fault: f, Op: "apply", Offset: time.Since(s.start), Err: err})
		}
		return
	}
	if f.For > 0 {
		sleepUntil(s.ctx, at.Add(f.For.D()))
	} else {
		<-s.ctx.Done()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), opTimeout)
	defer cancel()
	if err := s.c.Remove(rctx, f.Link, toxic); err != nil {
		s.fail(&FaultError{Index: i, Fault: f, Op: "remove", Offset: time.Since(s.start), Err: err})
	}
}

// fail records the schedule's first error, delivers it on Err and ends the
// schedule.
func (s *Schedule) fail(err error) {
	s.once.Do(func() {
		s.err = err
		s.errc <- err
	})
	s.halt()
}

// sleepUntil waits until t; false if ctx ended first (or had already ended).
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Start is when Run was called: offset 0 of the schedule and of the timeline.
func (s *Schedule) Start() time.Time { return s.start }

// Err delivers the schedule's first error (a *FaultError), once, as soon as
// it happens. It is never closed and delivers nothing if all goes well: select
// on it alongside the attack, and use Done or Wait for the end.
func (s *Schedule) Err() <-chan error { return s.errc }

// Done is closed when the schedule has ended and removed its faults.
func (s *Schedule) Done() <-chan struct{} { return s.done }

// Wait blocks until the schedule ends and returns its first error, nil if
// none. The end of Run's context is not an error.
func (s *Schedule) Wait() error {
	<-s.done
	return s.err
}

// Stop ends the schedule now (no pending fault is added, applied faults are
// removed), waits for that, and returns the schedule's first error as Wait
// does. Stop may be called more than once and after the schedule ended.
func (s *Schedule) Stop() error {
	s.halt()
	return s.Wait()
}
