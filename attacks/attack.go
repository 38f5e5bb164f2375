package attacks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
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

// BurstHeader carries the burst's index on every request of a burst, so a
// service can tell which requests were released together (the demo records
// when each one's handler started: the arrival spread).
const BurstHeader = "X-Collide-Burst"

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
	// TLS configures connections to an https target (nil: the system's
	// roots).
	TLS *tls.Config
	// Vars are the run-wide variables (captured by setup) that templates use
	// as {{name}}; every name a spec uses must have been given to NewSpec.
	// They are not written to the history.
	Vars map[string]string
	// Redact, if set, rewrites an op's error text before it is recorded (a
	// transport error quotes the URL, which may hold a secret variable).
	Redact func(string) string
	// Shard and Shards make this attack shard Shard (0-based) of Shards
	// processes attacking together: {{seq}} and {{burst}} render
	// n×Shards+Shard for the shard's own n-th iteration (0, 1, 2 …), so
	// the shards' values are disjoint (shard 1 of 3: 1, 4, 7 …) and cover
	// 0, 1, 2 … between them. Shards 0 or 1 is an unsharded attack.
	Shard, Shards int
}

// Global is the run-wide number of a shard's n-th iteration:
// n×Shards+Shard ({{seq}} and {{burst}}); n itself when unsharded.
func (o *Options) Global(n uint64) uint64 {
	if o.Shards <= 1 {
		return n
	}
	return n*uint64(o.Shards) + uint64(o.Shard)
}

// Live holds outcome counters updated during the attack (for a progress
// line); safe for concurrent use.
type Live struct {
	ok, fail, unknown atomic.Int64
}

// Add counts one op of outcome o, as history.Counts.Add does.
func (l *Live) Add(o history.Outcome) {
	switch o {
	case history.OK:
		l.ok.Add(1)
	case history.Fail:
		l.fail.Add(1)
	default:
		l.unknown.Add(1)
	}
}

// Counts returns the counts so far. Each count is read atomically, the
// three together are not: a snapshot for display.
func (l *Live) Counts() history.Counts {
	return history.Counts{OK: int(l.ok.Load()), Fail: int(l.fail.Load()), Unknown: int(l.unknown.Load())}
}

// Metrics summarise one operation's attack.
type Metrics struct {
	Op       string        `json:"op"`
	Requests uint64        `json:"requests"`
	Rate     float64       `json:"rate"`       // achieved send rate, requests per second
	Through  float64       `json:"throughput"` // ok responses per second
	Duration time.Duration `json:"duration"`   // first request to last request sent
	// Counts are the op's outcomes: ok, fail and unknown in JSON.
	history.Counts
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	Max  time.Duration `json:"max"`
	Mean time.Duration `json:"mean"`
	// StatusCodes counts responses by status code ("0" for none).
	StatusCodes map[string]int `json:"status_codes"`
	// Errors lists distinct transport errors (at most 10).
	Errors []string `json:"errors,omitempty"`
	// Bursts is the number of bursts sent, and Sync the release mode they
	// used (last-byte, single-packet or barrier); SyncNote says why, when it
	// is not the mode asked for.
	Bursts   int    `json:"bursts,omitempty"`
	Sync     string `json:"sync,omitempty"`
	SyncNote string `json:"sync_note,omitempty"`
	// ReleaseSpread* describe, over the bursts, the time from the first
	// release write of a burst to the end of its last one (nanoseconds in
	// JSON): the median, the 90th percentile, the largest, and the first
	// burst's.
	ReleaseSpreadP50   time.Duration `json:"release_spread_p50,omitempty"`
	ReleaseSpreadP90   time.Duration `json:"release_spread_p90,omitempty"`
	ReleaseSpreadMax   time.Duration `json:"release_spread_max,omitempty"`
	ReleaseSpreadFirst time.Duration `json:"release_spread_first,omitempty"`
	// ArrivalSpread* describe, when the service reports when each request
	// reached its handler (the demo does), the time from a burst's first
	// arrival to its last: median and largest; ArrivalBursts counts the
	// bursts measured.
	ArrivalSpreadP50 time.Duration `json:"arrival_spread_p50,omitempty"`
	ArrivalSpreadMax time.Duration `json:"arrival_spread_max,omitempty"`
	ArrivalBursts    int           `json:"arrival_bursts,omitempty"`

	// bursts lists each burst's op ids, for SetArrivals.
	burstIDs [][]uint64
}

// SetArrivals computes the arrival spreads from when the service saw each
// op (by op id); ops it did not report are left out, and a burst with
// fewer than two reported ops is not measured.
func (m *Metrics) SetArrivals(arrivals map[uint64]time.Time) {
	var sp spreads
	for _, ids := range m.burstIDs {
		var starts []time.Time
		for _, id := range ids {
			if t, ok := arrivals[id]; ok {
				starts = append(starts, t)
			}
		}
		if len(starts) < 2 {
			continue
		}
		sp.add(1, spreadOf(starts, starts))
	}
	m.ArrivalSpreadP50, _, m.ArrivalSpreadMax = sp.summary()
	m.ArrivalBursts = len(sp.all)
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

// Attack is an attack made ready: every burst's release mode chosen
// against the target and its connections opened. Run it once, then Close.
type Attack struct {
	opts Options
	runs []*opRun // one per spec, nil for members of another's burst
}

// Prepare readies an attack with every spec: for each burst operation it
// resolves the release mode (asking the target whether it speaks HTTP/2
// when the mode is single-packet or unset) and opens the connections of
// its first burst. It sends no request; an error here (a mode the target
// cannot do, a target that cannot be reached) comes before any load.
func Prepare(ctx context.Context, opts Options, specs []*Spec) (*Attack, error) {
	if opts.History == nil || opts.Rand == nil {
		return nil, errors.New("attacks: Options.History and Options.Rand are required")
	}
	for _, s := range specs {
		if err := s.keysReady(); err != nil {
			return nil, err
		}
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("attacks: base URL %q: want e.g. http://127.0.0.1:8080", opts.BaseURL)
	}
	a := &Attack{opts: opts, runs: make([]*opRun, len(specs))}
	rng := &lockedRand{r: opts.Rand}
	ids := new(atomic.Uint64)
	for i, s := range specs {
		if s.Member {
			continue
		}
		r := &opRun{spec: s, opts: opts, rng: rng, ids: ids, usesUUID: s.uses(segUUID), usesKey: s.uses(segKey)}
		r.client = r.newClient()
		a.runs[i] = r
		if s.Burst == nil {
			continue
		}
		if r.sync, r.syncNote, err = resolveSync(ctx, s.Burst, base, opts.TLS); err != nil {
			a.Close()
			return nil, fmt.Errorf("operation %q: %w", s.Name, err)
		}
		newRel, _ := lookupSync(r.sync)
		r.releaser = newRel(releaseConfig{base: base, timeout: s.Timeout, client: r.client, tls: opts.TLS, keepAlive: s.KeepAlive})
		if err := r.releaser.warm(ctx, s.Burst.Size()); err != nil {
			a.Close()
			return nil, fmt.Errorf("operation %q: %s: %w", s.Name, r.sync, err)
		}
	}
	return a, nil
}

// Close closes every connection the attack keeps.
func (a *Attack) Close() {
	for _, r := range a.runs {
		if r == nil {
			continue
		}
		if r.releaser != nil {
			r.releaser.close()
		}
		r.httpTr.CloseIdleConnections()
	}
}

// Run attacks with every operation at once and records every request in
// the History. It returns when every operation has finished or ctx is done;
// ops in flight at cancellation are recorded as unknown or fail by the
// usual rule. The metrics are in spec order, one per operation that runs
// (members of another's burst have none).
func (a *Attack) Run(ctx context.Context) ([]*Metrics, error) {
	out := make([]*Metrics, len(a.runs))
	errs := make([]error, len(a.runs))
	var wg sync.WaitGroup
	for i, r := range a.runs {
		if r == nil {
			continue
		}
		wg.Go(func() {
			defer func() {
				if pv := recover(); pv != nil {
					errs[i] = fmt.Errorf("attacks: %s: panic: %v", r.spec.Name, pv)
				}
			}()
			out[i], errs[i] = r.run(ctx)
		})
	}
	wg.Wait()
	ms := make([]*Metrics, 0, len(out))
	for _, m := range out {
		if m != nil {
			ms = append(ms, m)
		}
	}
	return ms, errors.Join(errs...)
}

// Run prepares an attack with every spec, runs it and closes it.
func Run(ctx context.Context, opts Options, specs []*Spec) ([]*Metrics, error) {
	a, err := Prepare(ctx, opts, specs)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Run(ctx)
}

// reqMeta is what the targeter rendered for one request, and whether the
// transport wrote it.
type reqMeta struct {
	id   uint64
	vars Vars
	sent atomic.Bool
}

type opRun struct {
	spec     *Spec
	usesUUID bool
	usesKey  bool
	opts     Options
	rng      *lockedRand
	ids      *atomic.Uint64
	seq      atomic.Uint64
	pending  sync.Map   // op id → *reqMeta, until its result arrives
	bySeq    sync.Map   // vegeta seq → *reqMeta
	mu       sync.Mutex // guards metrics in record

	transport http.RoundTripper // what RoundTrip sends through: httpTr
	httpTr    *http.Transport
	client    *http.Client // the iterations' client (bursts retry with it)

	// releaser sends the bursts, in mode sync (syncNote: why that mode);
	// release collects their spreads and burstIDs their op ids, both under
	// burstMu.
	releaser releaser
	sync     string
	syncNote string
	burstMu  sync.Mutex
	release  spreads
	burstIDs [][]uint64
}

// targeter renders the next request. It runs on vegeta's worker goroutines.
func (r *opRun) targeter() vegeta.Targeter {
	s := r.spec
	st := s.Steps[0]
	return func(t *vegeta.Target) error {
		n := r.seq.Add(1) - 1
		if s.Iterations > 0 && n >= uint64(s.Iterations) {
			return vegeta.ErrNoTargets
		}
		m := &reqMeta{id: r.ids.Add(1)}
		if err := r.newVars(n, &m.vars); err != nil {
			return err
		}
		t.Method = st.Method
		t.URL = r.opts.BaseURL + st.URL.Render(&m.vars)
		t.Body = []byte(st.Body.Render(&m.vars))
		t.Header = st.header(&m.vars, m.id)
		r.pending.Store(m.id, m)
		return nil
	}
}

// newVars draws the per-iteration values: the sequence number, a UUID from
// the run's seeded source if any template uses one, and a key.
func (r *opRun) newVars(seq uint64, v *Vars) error {
	v.Seq = r.opts.Global(seq)
	v.Run = r.opts.Vars
	if r.usesUUID {
		u, err := uuid.NewRandomFromReader(r.rng)
		if err != nil {
			return fmt.Errorf("uuid: %w", err)
		}
		v.UUID = u.String()
	}
	if r.usesKey {
		v.Key = r.spec.drawKey(r.rng.IntN)
	}
	return nil
}

// header renders the step's headers, adding the op id and a JSON content
// type when the body is non-empty and none is set.
func (st *Step) header(v *Vars, id uint64) http.Header {
	h := make(http.Header, len(st.Headers)+2)
	for _, ht := range st.Headers {
		h.Set(ht.Name, ht.Value.Render(v))
	}
	if !st.Body.empty() && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set(OpHeader, strconv.FormatUint(id, 10))
	return h
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
	// The per-request timeout is a context deadline set here, not
	// http.Client.Timeout: for a RoundTripper that is not an
	// *http.Transport (this one), net/http enforces Client.Timeout with a
	// timer and a goroutine per request (setRequestCancel), which cost the
	// attack a sixth of its throughput at saturation (docs/benchmarks.md).
	return roundTripWithin(httptrace.WithClientTrace(req.Context(), trace), r.transport, req, r.spec.Timeout)
}

// roundTripWithin sends req through rt with ctx, under a deadline of timeout
// from now that ends when the response body is closed — what http.Client
// does for the timeouts it enforces on an *http.Transport.
func roundTripWithin(ctx context.Context, rt http.RoundTripper, req *http.Request, timeout time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends a request's deadline once vegeta has read and closed its
// body, as http.Client does for the timeouts it sets itself.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// newClient makes the operation's transport and the client iterations
// send with.
func (r *opRun) newClient() *http.Client {
	s := r.spec
	dialer := &net.Dialer{Timeout: min(s.Timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	size := 0
	if s.Burst != nil {
		size = s.Burst.Size()
	}
	r.httpTr = &http.Transport{
		TLSClientConfig:     r.opts.TLS,
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: max(s.MaxWorkers, size),
		DisableKeepAlives:   !s.KeepAlive,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	r.transport = r.httpTr
	return &http.Client{
		Timeout:       s.Timeout,
		Transport:     r.httpTr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (r *opRun) run(ctx context.Context) (*Metrics, error) {
	s := r.spec
	if !s.vegetaPath() {
		m, err := r.runIterations(ctx, r.client)
		m.burstIDs = r.burstIDs
		return m, err
	}
	client := &http.Client{
		Transport:     r, // RoundTrip applies s.Timeout as a context deadline
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	workers, maxWorkers := uint64(s.Workers), uint64(s.MaxWorkers)
	pacer := s.pacer()
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
	var firstErr error
	results := atk.Attack(r.targeter(), pacer, dur, s.Name)
	for res := range results {
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
		if st := s.Steps[0]; len(st.Capture) > 0 && op.Outcome != history.Unknown {
			op.Captures = capture(st.Capture, res.Body)
		}
		res.Body = nil
		if err := r.record(m, &vm, op, res); err != nil {
			atk.Stop()
			for range results { // let vegeta's workers finish
			}
			return m, err
		}
	}
	r.summarize(m, &vm)
	return m, firstErr
}

// record counts op in m and vm, updates the live counters and appends op to
// the history.
func (r *opRun) record(m *Metrics, vm *vegeta.Metrics, op *history.Op, res *vegeta.Result) error {
	if op.Error != "" && r.opts.Redact != nil {
		op.Error = r.opts.Redact(op.Error)
	}
	r.mu.Lock()
	m.Counts.Add(op.Outcome)
	if op.Error != "" && len(m.Errors) < 10 && !contains(m.Errors, op.Error) {
		m.Errors = append(m.Errors, op.Error)
	}
	// vegeta.Metrics keeps every distinct error text, and a transport error
	// quotes the URL: with a templated URL that is one string per failed
	// request, kept to the end of the attack. collide lists its own first
	// ten (m.Errors) and reads nothing else Error feeds, so vm never sees it.
	errText := res.Error
	res.Error = ""
	vm.Add(res)
	res.Error = errText
	r.mu.Unlock()
	if l := r.opts.Live; l != nil {
		l.Add(op.Outcome)
	}
	return r.opts.History.Append(redactSecretValues(op, r.spec.secretCaptures))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// summarize closes vm and copies its figures into m.
func (r *opRun) summarize(m *Metrics, vm *vegeta.Metrics) {
	vm.Close()
	m.Requests = vm.Requests
	m.Rate = vm.Rate
	m.Through = float64(m.OK) / max(vm.Duration+vm.Wait, time.Nanosecond).Seconds()
	m.Duration = vm.Duration
	m.P50, m.P90, m.P99 = vm.Latencies.P50, vm.Latencies.P90, vm.Latencies.P99
	m.Max, m.Mean = vm.Latencies.Max, vm.Latencies.Mean
	m.StatusCodes = vm.StatusCodes
}

func valuesOf(v *Vars) map[string]string {
	out := make(map[string]string, 2+len(v.Captured))
	out["seq"] = strconv.FormatUint(v.Seq, 10)
	if v.UUID != "" {
		out["uuid"] = v.UUID
	}
	for k, c := range v.Captured {
		out[k] = c
	}
	return out
}

// redactedValue replaces, in the history, a captured value that a later
// step sends as a secret header (Authorization: Bearer {{token}} …).
const redactedValue = "REDACTED"

// redactSecretValues returns op as the history records it: a copy whose
// secret captures (secret names) are hidden, in its captures and in the
// values later flow steps rendered — or op itself when it has none. op is
// left alone: a flow's next step still reads its captures.
func redactSecretValues(op *history.Op, secret map[string]bool) *history.Op {
	if len(secret) == 0 {
		return op
	}
	captures := redactMap(op.Captures, secret, redactedValue)
	values := redactMap(op.Values, secret, redactedValue)
	if captures == nil && values == nil {
		return op
	}
	c := *op
	if captures != nil {
		c.Captures = captures
	}
	if values != nil {
		c.Values = values
	}
	return &c
}

// redactMap returns a copy of m with the values of the secret keys replaced
// by redacted, or nil when m has none.
func redactMap[V any](m map[string]V, secret map[string]bool, redacted V) map[string]V {
	var out map[string]V
	for name := range m {
		if !secret[name] {
			continue
		}
		if out == nil {
			out = make(map[string]V, len(m))
			for k, v := range m {
				out[k] = v
			}
		}
		out[name] = redacted
	}
	return out
}
