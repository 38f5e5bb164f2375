package attacks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
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
// cannot: bursts released together, multi-step flows with captures, and
// client retries. Pacing comes from vegeta's pacers with vegeta's own loop
// (an operation sends exactly rate × duration iterations, the last one at
// the end of the duration), and metrics from vegeta's Metrics, so every
// operation reports alike.
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
	for !stopped.Load() && ctx.Err() == nil {
		if s.Iterations > 0 && hits >= uint64(s.Iterations) {
			break
		}
		elapsed := time.Since(began)
		if elapsed > dur {
			break
		}
		if !s.Rate.Max() {
			wait, stop := pacer.Pace(elapsed, hits)
			if stop {
				break
			}
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
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
			if err := r.iterate(ctx, client, n, m, &vm); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	r.summarize(m, &vm)
	if s.Burst != nil {
		m.Bursts = int(hits)
		m.Sync, m.SyncNote = r.sync, r.syncNote
		m.ReleaseSpreadP50, m.ReleaseSpreadP90, m.ReleaseSpreadMax = r.release.summary()
		m.ReleaseSpreadFirst = r.release.first
	}
	return m, firstErr
}

// iterate runs iteration n: one burst, one flow, or one request with its
// retries.
func (r *opRun) iterate(ctx context.Context, client *http.Client, n uint64, m *Metrics, vm *vegeta.Metrics) error {
	s := r.spec
	var vars Vars
	if err := r.newVars(n, &vars); err != nil {
		return err
	}
	steps := s.Steps
	if s.Burst != nil && len(steps) > 0 {
		// A burst of a flow runs the steps before the last once, then
		// releases copies of the last step with what they captured (a
		// mixed burst has no steps of its own).
		steps = steps[:len(steps)-1]
	}
	for _, st := range steps {
		op, err := r.withRetries(ctx, request{client: client, step: st, member: s, vars: &vars, worker: int(n), m: m, vm: vm}, nil)
		if err != nil {
			return err
		}
		if op.Outcome != history.OK {
			return nil // a flow stops at its first step that did not succeed
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
	if s.Burst != nil {
		vars.Burst = vars.Seq // the burst's number: n, or its shard's global number
		return r.burst(ctx, client, &vars, m, vm)
	}
	return nil
}

// burstStep is the step a burst releases copies of: the request of a plain
// operation, the last step of a flow.
func burstStep(s *Spec) *Step { return s.Steps[len(s.Steps)-1] }

// burstCopy is one request of a burst: which operation it belongs to and
// its rendered values.
type burstCopy struct {
	member *Spec
	vars   Vars
	id     uint64
}

// burst renders the burst's requests — Copies of each member's request,
// interleaved (a, b, a, b …) — hands them to the operation's releaser, and
// records every exchange as an op whose invoke time is its release. Copies
// whose outcome is unknown are resent one by one when the profile retries.
func (r *opRun) burst(ctx context.Context, client *http.Client, vars *Vars, m *Metrics, vm *vegeta.Metrics) error {
	b := r.spec.Burst
	copies := make([]burstCopy, 0, b.Size())
	reqs := make([]*outgoing, 0, b.Size())
	for c := range b.Copies {
		for _, mem := range b.members {
			bc := burstCopy{member: mem, vars: *vars, id: r.ids.Add(1)}
			bc.vars.Copy = c
			st := burstStep(mem)
			o, err := r.outgoing(st, &bc.vars, bc.id)
			if err != nil {
				return err
			}
			o.header.Set(BurstHeader, strconv.FormatUint(vars.Burst, 10))
			copies = append(copies, bc)
			reqs = append(reqs, o)
		}
	}
	ex, spread := r.releaser.release(ctx, reqs)
	r.noteBurst(vars.Burst, copies, spread)
	for i := range copies {
		bc, e := &copies[i], &ex[i]
		st := burstStep(bc.member)
		invoke := e.released
		if invoke.IsZero() {
			invoke = e.done
		}
		op := &history.Op{
			ID: bc.id, Op: st.Op, Key: bc.vars.Key, Worker: i, Invoke: invoke, Complete: e.done,
			Status: e.status, Sent: e.sent, Values: valuesOf(&bc.vars),
		}
		op.Values["burst"] = strconv.FormatUint(bc.vars.Burst, 10)
		op.Values["copy"] = strconv.Itoa(bc.vars.Copy)
		if e.err != nil {
			op.Error = e.err.Error()
		}
		op.Outcome = bc.member.Classify(op.Status, op.Sent)
		if len(st.Capture) > 0 && op.Outcome != history.Unknown {
			op.Captures = capture(st.Capture, e.body)
		}
		if r.spec.RetryMax > 0 && op.Outcome == history.Unknown {
			op.Logical, op.Attempt = op.ID, 1
		}
		res := &vegeta.Result{Attack: st.Op, Seq: op.ID, Code: uint16(op.Status), Timestamp: invoke, Latency: e.done.Sub(invoke),
			Error: op.Error, Method: st.Method, URL: reqs[i].url.String()}
		if err := r.record(m, vm, op, res); err != nil {
			return err
		}
		if op.Logical != 0 && ctx.Err() == nil {
			if _, err := r.withRetries(ctx, request{client: client, step: st, member: bc.member, vars: &bc.vars, worker: i, m: m, vm: vm}, op); err != nil {
				return err
			}
		}
	}
	return nil
}

// noteBurst keeps a burst's release spread (when at least two copies were
// released) and its op ids, for the arrival spread.
func (r *opRun) noteBurst(n uint64, copies []burstCopy, spread time.Duration) {
	ids := make([]uint64, len(copies))
	for i := range copies {
		ids[i] = copies[i].id
	}
	r.burstMu.Lock()
	defer r.burstMu.Unlock()
	r.burstIDs = append(r.burstIDs, ids)
	if len(copies) >= 2 {
		r.release.add(n, spread)
	}
}

// outgoing renders step st with v as one request of a burst.
func (r *opRun) outgoing(st *Step, v *Vars, id uint64) (*outgoing, error) {
	u, err := url.Parse(r.opts.BaseURL + st.URL.Render(v))
	if err != nil {
		return nil, fmt.Errorf("%s: url: %w", st.Op, err)
	}
	o := &outgoing{method: st.Method, url: u, header: st.header(v, id)}
	if !st.Body.empty() {
		o.body = []byte(st.Body.Render(v))
	}
	return o, nil
}

// request is one request to send, with its retries: what withRetries and
// do need besides the attempt.
type request struct {
	client *http.Client
	// step is the request to render and send.
	step *Step
	// member is the operation whose outcome rules apply (the operation
	// itself, or a mixed burst's member).
	member *Spec
	// vars are the values the templates render with.
	vars *Vars
	// worker is recorded as the op's Worker.
	worker int
	// m and vm count the exchange.
	m  *Metrics
	vm *vegeta.Metrics
}

// withRetries sends q's request and, while the outcome is unknown, resends
// the same request up to RetryMax times with doubling backoff. All attempts
// share Logical (the first attempt's id) and count Attempt from 1. When
// first is set (a burst copy already sent), it is attempt 1 and only the
// resends are made here.
func (r *opRun) withRetries(ctx context.Context, q request, first *history.Op) (*history.Op, error) {
	s := r.spec
	var logical uint64
	backoff := s.RetryBackoff
	op := first
	attempt := 1
	if first != nil {
		logical = first.Logical
		attempt = 2
	}
	for ; ; attempt++ {
		if op != nil {
			if op.Outcome != history.Unknown || attempt > s.RetryMax+1 || ctx.Err() != nil {
				return op, nil
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
		var err error
		op, err = r.do(ctx, &q, logical, attempt)
		if err != nil {
			return op, err
		}
		if logical == 0 {
			logical = op.ID
		}
	}
}

// do sends q's request once as the given attempt of logical (0: not yet
// known, the op's own id when it may be retried), classifies it, records it
// and returns the op.
func (r *opRun) do(ctx context.Context, q *request, logical uint64, attempt int) (*history.Op, error) {
	s, st, vars := r.spec, q.step, q.vars
	id := r.ids.Add(1)
	if logical == 0 && s.RetryMax > 0 {
		logical = id
	}
	target := r.opts.BaseURL + st.URL.Render(vars)
	var body io.Reader
	if !st.Body.empty() {
		body = strings.NewReader(st.Body.Render(vars))
	}
	var wrote atomic.Bool // the headers were written
	trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), st.Method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header = st.header(vars, id)
	start := time.Now()
	resp, err := q.client.Do(req)
	var status int
	var respBody []byte
	errText := ""
	if err == nil {
		respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err == nil {
			status = resp.StatusCode
		}
	}
	if err != nil {
		errText = err.Error()
	}
	end := time.Now()
	op := &history.Op{
		ID: id, Op: st.Op, Key: vars.Key, Worker: q.worker, Logical: logical, Attempt: attempt,
		Invoke: start, Complete: end, Status: status, Sent: wrote.Load(), Error: errText,
		Values: valuesOf(vars),
	}
	if s.RetryMax == 0 {
		op.Attempt = 0
	}
	op.Outcome = q.member.Classify(status, op.Sent)
	if len(st.Capture) > 0 && op.Outcome != history.Unknown {
		op.Captures = capture(st.Capture, respBody)
	}
	res := &vegeta.Result{Attack: st.Op, Seq: id, Code: uint16(status), Timestamp: start, Latency: end.Sub(start),
		Error: errText, Method: st.Method, URL: target}
	return op, r.record(q.m, q.vm, op, res)
}
