package attacks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
)

// OpHeader carries the history op id on every request, so a service's logs
// can be joined with collide's history.
const OpHeader = "X-Collide-Op"

// Options configure an attack run.
type Options struct {
	// BaseURL is the target's base URL (the target link's address when chaos
	// is on), e.g. http://127.0.0.1:41234.
	BaseURL string
	// History receives one op per request. Required.
	History *history.Writer
	// Rand is the run's seeded random source (UUIDs, key choice). Required.
	Rand *rand.Rand
	// Live, if set, is updated as results arrive (for a progress line).
	Live *Live
}

// Live holds counters updated during the attack; safe for concurrent use.
type Live struct {
	OK, Fail, Unknown atomic.Int64
}

// Metrics summarise one operation's attack.
type Metrics struct {
	Op       string        `json:"op"`
	Requests uint64        `json:"requests"`
	Rate     float64       `json:"rate"`       // achieved send rate, requests per second
	Through  float64       `json:"throughput"` // ok responses per second
	Duration time.Duration `json:"duration"`   // first request to last request sent
	OK       int           `json:"ok"`
	Fail     int           `json:"fail"`
	Unknown  int           `json:"unknown"`
	P50      time.Duration `json:"p50"`
	P90      time.Duration `json:"p90"`
	P99      time.Duration `json:"p99"`
	Max      time.Duration `json:"max"`
	Mean     time.Duration `json:"mean"`
	// StatusCodes counts responses by status code ("0" for none).
	StatusCodes map[string]int `json:"status_codes"`
	// Errors lists distinct transport errors (at most 10).
	Errors []string `json:"errors,omitempty"`
}

// lockedRand makes the run's *rand.Rand safe for the attack's goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range p {
		p[i] = byte(l.r.Uint32())
	}
	return len(p), nil
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// Run attacks with every spec at once and records every request in
// opts.History. It returns when every operation has finished or ctx is done;
// ops in flight at cancellation are recorded as unknown or fail by the usual
// rule. The metrics are in spec order.
func Run(ctx context.Context, opts Options, specs []*Spec) ([]*Metrics, error) {
	if opts.History == nil || opts.Rand == nil {
		return nil, errors.New("attacks: Options.History and Options.Rand are required")
	}
	rng := &lockedRand{r: opts.Rand}
	var ids atomic.Uint64
	out := make([]*Metrics, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() {
			defer func() {
				if pv := recover(); pv != nil {
					errs[i] = fmt.Errorf("attacks: %s: panic: %v", s.Name, pv)
				}
			}()
			r := &opRun{spec: s, opts: opts, rng: rng, ids: &ids}
			out[i], errs[i] = r.run(ctx)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// reqMeta is what the targeter rendered for one request, and whether the
// transport wrote it.
type reqMeta struct {
	id   uint64
	vars Vars
	sent atomic.Bool
}

type opRun struct {
	spec    *Spec
	opts    Options
	rng     *lockedRand
	ids     *atomic.Uint64
	seq     atomic.Uint64
	pending sync.Map // op id → *reqMeta, until its result arrives
	bySeq   sync.Map // vegeta seq → *reqMeta

	transport http.RoundTripper
}

// targeter renders the next request. It runs on vegeta's worker goroutines.
func (r *opRun) targeter(uses bool, keyed bool) vegeta.Targeter {
	s := r.spec
	return func(t *vegeta.Target) error {
		n := r.seq.Add(1) - 1
		if s.Requests > 0 && n >= uint64(s.Requests) {
			return vegeta.ErrNoTargets
		}
		m := &reqMeta{id: r.ids.Add(1), vars: Vars{Seq: n}}
		if uses {
			u, err := uuid.NewRandomFromReader(r.rng)
			if err != nil {
				return fmt.Errorf("uuid: %w", err)
			}
			m.vars.UUID = u.String()
		}
		if keyed {
			k := 0
			if s.Keys > 1 {
				k = r.rng.IntN(s.Keys)
			}
			m.vars.Key = "key-" + strconv.Itoa(k)
		}
		t.Method = s.Method
		t.URL = r.opts.BaseURL + s.URL.Render(&m.vars)
		if s.Body != nil {
			t.Body = []byte(s.Body.Render(&m.vars))
		}
		t.Header = make(http.Header, len(s.Headers)+2)
		for _, h := range s.Headers {
			t.Header.Set(h.Name, h.Value.Render(&m.vars))
		}
		if len(t.Body) > 0 && t.Header.Get("Content-Type") == "" {
			t.Header.Set("Content-Type", "application/json")
		}
		t.Header.Set(OpHeader, strconv.FormatUint(m.id, 10))
		r.pending.Store(m.id, m)
		return nil
	}
}

// RoundTrip links vegeta's sequence number to the op and watches whether the
// request gets written: a request never written definitely did not apply.
func (r *opRun) RoundTrip(req *http.Request) (*http.Response, error) {
	id, _ := strconv.ParseUint(req.Header.Get(OpHeader), 10, 64)
	seq, _ := strconv.ParseUint(req.Header.Get("X-Vegeta-Seq"), 10, 64)
	v, ok := r.pending.LoadAndDelete(id)
	if !ok {
		return nil, fmt.Errorf("attacks: request without a pending op (id %d)", id)
	}
	m := v.(*reqMeta)
	r.bySeq.Store(seq, m)
	trace := &httptrace.ClientTrace{WroteHeaders: func() { m.sent.Store(true) }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	return r.transport.RoundTrip(req)
}

func (r *opRun) run(ctx context.Context) (*Metrics, error) {
	s := r.spec
	dialer := &net.Dialer{Timeout: min(s.Timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: s.MaxWorkers,
		DisableKeepAlives:   !s.KeepAlive,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	r.transport = tr
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Timeout:       s.Timeout,
		Transport:     r,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	workers, maxWorkers := uint64(s.Workers), uint64(s.MaxWorkers)
	pacer := vegeta.ConstantPacer{Freq: s.Rate.Freq, Per: s.Rate.Per}
	if s.Rate.Max() {
		maxWorkers = workers
	}
	atk := vegeta.NewAttacker(
		vegeta.Workers(workers),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.MaxBody(64<<10),
		vegeta.Client(client),
	)
	dur := s.Duration
	if dur <= 0 {
		dur = MaxDuration
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()

	var vm vegeta.Metrics
	m := &Metrics{Op: s.Name}
	errSeen := map[string]bool{}
	var firstErr error
	for res := range atk.Attack(r.targeter(s.usesUUID(), s.usesKey()), pacer, dur, s.Name) {
		v, ok := r.bySeq.LoadAndDelete(res.Seq)
		if !ok {
			// The targeter refused (request cap reached) or the request could
			// not be built: nothing was sent, and no op exists.
			if res.Error != "" && res.Error != vegeta.ErrNoTargets.Error() && firstErr == nil {
				firstErr = fmt.Errorf("attacks: %s: %s", s.Name, res.Error)
			}
			continue
		}
		meta := v.(*reqMeta)
		op := &history.Op{
			ID:       meta.id,
			Op:       s.Name,
			Key:      meta.vars.Key,
			Worker:   int(res.Seq),
			Invoke:   res.Timestamp,
			Complete: res.End(),
			Status:   int(res.Code),
			Sent:     meta.sent.Load(),
			Values:   valuesOf(&meta.vars),
		}
		if res.Code == 0 {
			op.Error = res.Error
		}
		op.Outcome = s.Classify(op.Status, op.Sent)
		switch op.Outcome {
		case history.OK:
			m.OK++
		case history.Fail:
			m.Fail++
		default:
			m.Unknown++
		}
		if r.opts.Live != nil {
			switch op.Outcome {
			case history.OK:
				r.opts.Live.OK.Add(1)
			case history.Fail:
				r.opts.Live.Fail.Add(1)
			default:
				r.opts.Live.Unknown.Add(1)
			}
		}
		if op.Error != "" && len(errSeen) < 10 && !errSeen[op.Error] {
			errSeen[op.Error] = true
			m.Errors = append(m.Errors, op.Error)
		}
		if err := r.opts.History.Append(op); err != nil {
			atk.Stop()
			return m, err
		}
		res.Body = nil
		vm.Add(res)
	}
	vm.Close()
	m.Requests = vm.Requests
	m.Rate = vm.Rate
	m.Through = float64(m.OK) / max(vm.Duration+vm.Wait, time.Nanosecond).Seconds()
	m.Duration = vm.Duration
	m.P50, m.P90, m.P99 = vm.Latencies.P50, vm.Latencies.P90, vm.Latencies.P99
	m.Max, m.Mean = vm.Latencies.Max, vm.Latencies.Mean
	m.StatusCodes = vm.StatusCodes
	return m, firstErr
}

func valuesOf(v *Vars) map[string]string {
	out := map[string]string{"seq": strconv.FormatUint(v.Seq, 10)}
	if v.UUID != "" {
		out["uuid"] = v.UUID
	}
	return out
}
