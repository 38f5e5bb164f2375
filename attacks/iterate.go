package attacks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
)

// pacer is vegeta's constant pacer, or its linear pacer for a ramp from Rate
// to RampTo over Duration.
func (s *Spec) pacer() vegeta.Pacer {
	start := vegeta.Rate{Freq: s.Rate.Freq, Per: s.Rate.Per}
	if s.RampTo != nil && s.Duration > 0 {
		slope := (s.RampTo.PerSecond() - s.Rate.PerSecond()) / s.Duration.Seconds()
		return vegeta.LinearPacer{StartAt: start, Slope: slope}
	}
	return vegeta.ConstantPacer{Freq: s.Rate.Freq, Per: s.Rate.Per}
}

// runIterations drives operations vegeta's one-request-per-hit attacker
// cannot: bursts released behind a barrier, multi-step flows with captures,
// and client retries. Pacing still comes from vegeta's pacers, and metrics
// from vegeta's Metrics, so every operation reports alike.
func (r *opRun) runIterations(ctx context.Context, client *http.Client) (*Metrics, error) {
	s := r.spec
	m := &Metrics{Op: s.Name}
	var vm vegeta.Metrics
	pacer := s.pacer()
	dur := s.Duration
	if dur <= 0 {
		dur = MaxDuration
	}
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		spreads  []time.Duration
		spreadMu sync.Mutex
	)
	var stopped atomic.Bool
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		stopped.Store(true)
	}
	sem := make(chan struct{}, s.MaxWorkers)
	began := time.Now()
	var hits uint64
loop:
	for !stopped.Load() {
		if s.Requests > 0 && hits >= uint64(s.Requests) {
			break
		}
		elapsed := time.Since(began)
		if elapsed >= dur {
			break
		}
		if !s.Rate.Max() {
			wait, stop := pacer.Pace(elapsed, hits)
			if stop {
				break
			}
			if wait > 0 {
				t := time.NewTimer(min(wait, dur-elapsed))
				select {
				case <-t.C:
					continue
				case <-ctx.Done():
					t.Stop()
					break loop
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		n := hits
		hits++
		wg.Go(func() {
			defer func() { <-sem }()
			spread, err := r.iterate(ctx, client, n, m, &vm)
			if err != nil {
				fail(err)
			}
			if s.Burst > 0 && spread >= 0 {
				spreadMu.Lock()
				spreads = append(spreads, spread)
				spreadMu.Unlock()
			}
		})
	}
	wg.Wait()
	r.summarize(m, &vm)
	if len(spreads) > 0 {
		slices.Sort(spreads)
		m.BurstSpreadP50 = spreads[len(spreads)/2]
		m.BurstSpreadMax = spreads[len(spreads)-1]
		m.Bursts = len(spreads)
	}
	return m, firstErr
}

// iterate runs iteration n: one burst, one flow, or one request with its
// retries. For a burst it returns the spread between the first and the last
// copy's request being written (-1 when fewer than two were written).
func (r *opRun) iterate(ctx context.Context, client *http.Client, n uint64, m *Metrics, vm *vegeta.Metrics) (time.Duration, error) {
	s := r.spec
	var vars Vars
	if err := r.newVars(n, &vars); err != nil {
		return -1, err
	}
	if s.Burst > 0 {
		return r.burst(ctx, client, &vars, m, vm)
	}
	for _, st := range s.Steps {
		op, err := r.withRetries(ctx, client, st, &vars, int(n), m, vm)
		if err != nil {
			return -1, err
		}
		if op.Outcome != history.OK {
			break // a flow stops at its first step that did not succeed
		}
		if len(s.Steps) > 1 && len(op.Captures) > 0 {
			if vars.Captured == nil {
				vars.Captured = map[string]string{}
			}
			for k, v := range op.Captures {
				vars.Captured[k] = text(v)
			}
		}
	}
	return -1, nil
}

// burst releases s.Burst copies of the request together: each copy waits at
// a barrier that opens once every copy is ready.
func (r *opRun) burst(ctx context.Context, client *http.Client, vars *Vars, m *Metrics, vm *vegeta.Metrics) (time.Duration, error) {
	s := r.spec
	st := s.Steps[0]
	var ready, done sync.WaitGroup
	barrier := make(chan struct{})
	wrote := make([]time.Time, s.Burst)
	errs := make([]error, s.Burst)
	ready.Add(s.Burst)
	for i := range s.Burst {
		done.Go(func() {
			ready.Done()
			<-barrier
			op, err := r.withRetries(ctx, client, st, vars, i, m, vm)
			errs[i] = err
			if op != nil && op.Sent {
				wrote[i] = op.sentAt
			}
		})
	}
	ready.Wait()
	close(barrier)
	done.Wait()
	var first, last time.Time
	for _, t := range wrote {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	for _, err := range errs {
		if err != nil {
			return -1, err
		}
	}
	if first.IsZero() || !last.After(first) && s.Burst > 1 {
		return -1, nil // fewer than two copies were written
	}
	return last.Sub(first), nil
}

// sentOp is a history op plus when its request was written.
type sentOp struct {
	*history.Op
	sentAt time.Time
}

// withRetries sends the step's request and, while the outcome is unknown,
// resends the same request up to RetryMax times with doubling backoff. All
// attempts share Logical (the first attempt's id) and count Attempt from 1.
func (r *opRun) withRetries(ctx context.Context, client *http.Client, st *Step, vars *Vars, worker int, m *Metrics, vm *vegeta.Metrics) (*sentOp, error) {
	s := r.spec
	var logical uint64
	backoff := s.RetryBackoff
	for attempt := 1; ; attempt++ {
		op, err := r.do(ctx, client, st, vars, worker, logical, attempt, m, vm)
		if err != nil || op.Outcome != history.Unknown || attempt > s.RetryMax || ctx.Err() != nil {
			return op, err
		}
		if logical == 0 {
			logical = op.ID
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return op, nil
		}
		backoff *= 2
	}
}

// do sends one request, classifies it, records it and returns the op.
func (r *opRun) do(ctx context.Context, client *http.Client, st *Step, vars *Vars, worker int, logical uint64, attempt int, m *Metrics, vm *vegeta.Metrics) (*sentOp, error) {
	s := r.spec
	id := r.ids.Add(1)
	if logical == 0 && s.RetryMax > 0 {
		logical = id
	}
	url := r.opts.BaseURL + st.URL.Render(vars)
	var body io.Reader
	if !st.Body.empty() {
		body = strings.NewReader(st.Body.Render(vars))
	}
	var sentAt atomic.Int64 // unix nanoseconds; 0 until the headers are written
	trace := &httptrace.ClientTrace{WroteHeaders: func() { sentAt.Store(time.Now().UnixNano()) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), st.Method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header = st.header(vars, id)
	start := time.Now()
	resp, err := client.Do(req)
	var status int
	var respBody []byte
	errText := ""
	if err == nil {
		respBody, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err == nil {
			status = resp.StatusCode
		}
	}
	if err != nil {
		errText = err.Error()
	}
	end := time.Now()
	op := &sentOp{Op: &history.Op{
		ID: id, Op: st.Op, Key: vars.Key, Worker: worker, Logical: logical, Attempt: attempt,
		Invoke: start, Complete: end, Status: status, Sent: sentAt.Load() != 0, Error: errText,
		Values: valuesOf(vars),
	}}
	if op.Sent {
		op.sentAt = time.Unix(0, sentAt.Load())
	}
	if s.RetryMax == 0 {
		op.Attempt = 0
	}
	op.Outcome = s.Classify(status, op.Sent)
	if len(st.Capture) > 0 && op.Outcome != history.Unknown {
		op.Captures = capture(st.Capture, respBody)
	}
	res := &vegeta.Result{Attack: st.Op, Seq: id, Code: uint16(status), Timestamp: start, Latency: end.Sub(start),
		Error: errText, Method: st.Method, URL: url}
	return op, r.record(m, vm, op.Op, res)
}
