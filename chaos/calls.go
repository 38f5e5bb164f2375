package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	client "github.com/Shopify/toxiproxy/v2/client"
)

// wrap explains an error from the Toxiproxy client: refused by the server,
// given up by the caller, or the API not reachable.
func (c *Chaos) wrap(what string, err error) error {
	var apiErr *client.ApiError
	var urlErr *url.Error
	switch {
	case errors.As(err, &apiErr):
		return fmt.Errorf("toxiproxy at %s refused to %s: %w", c.api, what, err)
	case errors.Is(err, errWedged):
		return fmt.Errorf("%s via toxiproxy at %s: %w", what, c.api, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("toxiproxy at %s did not answer in time (%s): %w"+
			" (Toxiproxy 2.12 can hang for good when toxics change while connections through the proxy die:"+
			" https://github.com/Shopify/toxiproxy/issues/558)", c.api, what, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s via toxiproxy at %s: %w", what, c.api, err)
	case errors.As(err, &urlErr):
		return fmt.Errorf("toxiproxy API at %s is unreachable (%s): %w", c.api, what, err)
	default:
		return fmt.Errorf("toxiproxy API at %s: %s: unexpected answer (is it a Toxiproxy server?): %w", c.api, what, err)
	}
}

func isNotFound(err error) bool {
	var apiErr *client.ApiError
	return errors.As(err, &apiErr) && apiErr.Status == 404
}

// slot serializes the requests that change one proxy's toxics. A request
// holds it until it finishes, even if its caller gave up on it; stuck then
// says so, and later callers fail at once rather than queue behind a request
// that may never return (see errWedged).
type slot struct {
	ch    chan struct{}
	mu    sync.Mutex
	stuck bool // guarded by mu
}

func (sl *slot) isStuck() bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.stuck
}

// errWedged: an earlier request on the same link has not returned.
var errWedged = errors.New("an earlier request on this link has not returned; the proxy may be wedged")

// call runs fn (blocking Toxiproxy client calls, which take no context) and
// returns its result, or ctx's error as soon as ctx is done. If sl is not
// nil, fn runs holding it (acquired while ctx allows). An abandoned call still
// finishes in the background (the client's own timeout is 30s), counted by t
// until then so Close can wait for it.
func call[T any](ctx context.Context, t *tracker, sl *slot, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if sl != nil {
		if sl.isStuck() {
			select {
			case sl.ch <- struct{}{}:
			default:
				return zero, errWedged
			}
		} else {
			select {
			case sl.ch <- struct{}{}:
			case <-ctx.Done():
				return zero, ctx.Err()
			}
		}
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	finished := false // guarded by sl.mu
	t.add()
	go func() {
		defer t.done()
		v, err := fn()
		if sl != nil {
			sl.mu.Lock()
			finished, sl.stuck = true, false
			<-sl.ch
			sl.mu.Unlock()
		}
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // finished at the same moment: prefer the real result
			return r.v, r.err
		default:
			if sl != nil {
				sl.mu.Lock()
				sl.stuck = sl.stuck || !finished
				sl.mu.Unlock()
			}
			return zero, ctx.Err()
		}
	}
}

// callErr is call for fn without a result.
func callErr(ctx context.Context, t *tracker, sl *slot, fn func() error) error {
	_, err := call(ctx, t, sl, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// tracker counts operations in flight; wait returns once none are.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (t *tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
