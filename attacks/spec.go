package attacks

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// Spec is one operation's attack, compiled from a profile operation with its
// defaults applied. Build it with NewSpec; a Spec is immutable and may be
// shared.
type Spec struct {
	Name string
	// Steps holds the request, or a flow's requests in order.
	Steps    []*Step
	Rate     profiles.Rate
	RampTo   *profiles.Rate // nil: constant rate
	Duration time.Duration  // 0: bounded by Iterations and MaxDuration only
	// Iterations caps the iterations: requests, flows or bursts (0: no
	// count bound besides Rate × Duration). A burst's requests cap is
	// rounded up to whole bursts.
	Iterations int
	Workers    int
	// MaxWorkers caps the workers vegeta may add to hold the rate.
	MaxWorkers int
	Timeout    time.Duration // per request
	KeepAlive  bool
	Keys       int // number of distinct keys {{key}} spreads over, ≥ 1
	// KeyValues, when set, are the keys {{key}} draws from (keys: a list, a
	// range or a query's rows), rendered as they are; Keys is their number.
	// Without them {{key}} renders key-0 … key-<Keys-1>.
	KeyValues []string
	// KeyQuery is the query whose rows give KeyValues (keys: {query: …}):
	// the harness runs it after setup and attacks with WithKeys' copy.
	KeyQuery string
	// KeyCapture is the capture of a repeated setup step whose values give
	// KeyValues (keys: {capture: …}): the harness attacks with WithKeys'
	// copy.
	KeyCapture string
	// Burst, when set, makes each iteration a burst: copies of the request
	// (or of the requests of the operations it names) released together.
	Burst *BurstSpec
	// Member reports that the operation's request is sent only by another
	// operation's burst (burst.of): it does not run on its own.
	Member bool
	// secretCaptures names the captures a step sends in a secret header
	// (Authorization: Bearer {{token}}): the history records them redacted.
	secretCaptures map[string]bool
	// RetryMax and RetryBackoff resend a request with an unknown outcome.
	RetryMax     int
	RetryBackoff time.Duration
	ok, fail     profiles.StatusSet
}

// BurstSpec is how one burst is made and released.
type BurstSpec struct {
	// Copies is how many copies of each request one burst releases.
	Copies int
	// Sync is the release mode asked for: a registered name (last-byte,
	// single-packet, barrier) or "" for the tightest the target supports.
	Sync string
	// Fallback is the mode used when Sync is single-packet and the target
	// does not speak HTTP/2; "" makes that an error before any load.
	Fallback string
	// Of names the operations whose requests a mixed burst releases; empty:
	// the operation's own request.
	Of []string
	// members are the specs whose first step each burst sends Copies of:
	// the operation itself, or the operations named in Of (set by NewSpecs).
	members []*Spec
}

// Size is the number of requests one burst sends.
func (b *BurstSpec) Size() int { return b.Copies * max(len(b.members), 1) }

// Step is one compiled request template.
type Step struct {
	// Op is the name its ops carry in the history: the operation's name, or
	// "<operation>.<step>" in a flow.
	Op      string
	Method  string
	URL     *Template // path relative to the target's base URL
	Headers []HeaderTemplate
	Body    *Template
	// Capture maps a variable name to its path in the JSON response.
	Capture map[string][]string
}

// HeaderTemplate is one request header whose value is a template.
type HeaderTemplate struct {
	Name  string
	Value *Template
}

// MaxDuration bounds an operation that has no duration of its own (only a
// request count), so that no request loop can run forever.
const MaxDuration = 10 * time.Minute

// OpError is an error in the operation at Index of a profile's operations;
// Err's text starts with the field, relative to the operation.
type OpError struct {
	Index int
	Err   error
}

func (e *OpError) Error() string { return fmt.Sprintf("operations[%d].%v", e.Index, e.Err) }
func (e *OpError) Unwrap() error { return e.Err }

// NewSpecs compiles a profile's operations, one Spec each in order, and links
// every mixed burst (burst.of) to the operations it releases, which become
// Members. Errors are *OpError.
// vars are the names of the run-wide variables (captured by setup; their
// values come with Options.Vars) that templates may use as {{name}}.
func NewSpecs(ops []profiles.Operation, vars ...string) ([]*Spec, error) {
	specs := make([]*Spec, len(ops))
	byName := map[string]int{}
	member := map[string]bool{}
	for _, op := range ops {
		if op.Burst != nil {
			for _, n := range op.Burst.Of {
				member[n] = true
			}
		}
	}
	for i, op := range ops {
		s, err := newSpec(op, member[op.Name], vars)
		if err != nil {
			return nil, &OpError{Index: i, Err: err}
		}
		specs[i] = s
		byName[op.Name] = i
	}
	for i, s := range specs {
		if s.Burst == nil || len(s.Burst.Of) == 0 {
			continue
		}
		s.Burst.members = nil
		for j, name := range s.Burst.Of {
			k, ok := byName[name]
			if !ok || k == i || len(specs[k].Steps) != 1 || specs[k].Burst != nil {
				return nil, &OpError{Index: i, Err: fmt.Errorf("burst.of[%d]: %q is not an operation with one plain request", j, name)}
			}
			specs[k].Member = true
			s.Burst.members = append(s.Burst.members, specs[k])
			for n := range specs[k].secretCaptures {
				if s.secretCaptures == nil {
					s.secretCaptures = map[string]bool{}
				}
				s.secretCaptures[n] = true
			}
		}
	}
	return specs, nil
}

// NewSpec compiles op, an operation that runs on its own. vars are the
// names of the run-wide variables templates may use as {{name}}. Errors
// name the offending field relative to the operation, e.g. "request.url:
// unknown placeholder {{sq}}". A mixed burst (burst.of) needs NewSpecs.
func NewSpec(op profiles.Operation, vars ...string) (*Spec, error) {
	if op.Burst != nil && len(op.Burst.Of) > 0 {
		return nil, fmt.Errorf("burst.of: a mixed burst is compiled with the operations it names (attacks.NewSpecs)")
	}
	return newSpec(op, false, vars)
}

func newSpec(op profiles.Operation, member bool, vars []string) (*Spec, error) {
	runVars := make(map[string]bool, len(vars))
	for _, v := range vars {
		runVars[v] = true
	}
	s := &Spec{
		Name:         op.Name,
		Rate:         op.Rate,
		RampTo:       op.RampTo,
		Duration:     op.Duration.D(),
		Iterations:   op.Requests,
		Workers:      op.Workers,
		MaxWorkers:   op.MaxWorkers,
		Timeout:      op.Timeout.D(),
		KeepAlive:    op.KeepAlive == nil || *op.KeepAlive,
		Keys:         max(op.Keys.Count, 1),
		KeyValues:    op.Keys.Values(),
		KeyQuery:     op.Keys.Query,
		KeyCapture:   op.Keys.Capture,
		RetryMax:     op.Retry.Max,
		RetryBackoff: op.Retry.Backoff.D(),
		Member:       member,
	}
	if b := op.Burst; b != nil {
		if b.Copies < 1 {
			return nil, fmt.Errorf("burst.copies: must be at least 1 (got %d)", b.Copies)
		}
		if b.Sync != "" {
			if _, err := lookupSync(b.Sync); err != nil {
				return nil, fmt.Errorf("burst.sync: %w", err)
			}
		}
		if b.Fallback != "" {
			if _, err := lookupSync(b.Fallback); err != nil || b.Fallback == syncSinglePacket {
				return nil, fmt.Errorf("burst.fallback: %q is not a fallback (want %s or %s)", b.Fallback, syncLastByte, syncBarrier)
			}
		}
		s.Burst = &BurstSpec{Copies: b.Copies, Sync: b.Sync, Fallback: b.Fallback, Of: b.Of}
		size := b.Size()
		switch {
		case op.Bursts > 0:
			s.Iterations = op.Bursts
		case op.Requests > 0:
			s.Iterations = (op.Requests + size - 1) / size
		}
	}
	if s.KeyValues != nil {
		s.Keys = len(s.KeyValues)
	}
	if s.Workers <= 0 {
		s.Workers = 16
	}
	if s.MaxWorkers < s.Workers {
		s.MaxWorkers = max(4*s.Workers, 64)
	}
	if s.Timeout <= 0 {
		s.Timeout = 5 * time.Second
	}
	if s.RetryBackoff <= 0 {
		s.RetryBackoff = 50 * time.Millisecond
	}
	switch {
	case s.Burst != nil && len(s.Burst.Of) > 0:
		// A mixed burst sends its members' requests, not its own.
	case len(op.Flow) == 0:
		st, err := newStep(op.Name, "request", op.Request, op.Capture, runVars)
		if err != nil {
			return nil, err
		}
		s.Steps = []*Step{st}
		if s.Burst != nil {
			s.Burst.members = []*Spec{s}
		}
	default:
		vars := runVars
		for i, fs := range op.Flow {
			st, err := newStep(op.Name+"."+fs.Name, fmt.Sprintf("flow[%d].request", i), fs.Request, fs.Capture, vars)
			if err != nil {
				return nil, err
			}
			s.Steps = append(s.Steps, st)
			for name := range fs.Capture {
				vars[name] = true
			}
		}
		if s.Burst != nil {
			s.Burst.members = []*Spec{s}
		}
	}
	for _, r := range append([]profiles.Request{op.Request}, flowRequests(op.Flow)...) {
		for h, v := range r.Headers {
			if !profiles.SecretName(h) {
				continue
			}
			for _, n := range profiles.VarRefs(v) {
				if s.secretCaptures == nil {
					s.secretCaptures = map[string]bool{}
				}
				s.secretCaptures[n] = true
			}
		}
	}
	okSpecs, failSpecs := op.Outcome.OK, op.Outcome.Fail
	if len(okSpecs) == 0 {
		okSpecs = []string{"2xx"}
	}
	if len(failSpecs) == 0 {
		failSpecs = []string{"4xx"}
	}
	var err error
	if s.ok, err = profiles.ParseStatusSet(okSpecs); err != nil {
		return nil, fmt.Errorf("outcome.ok: %w", err)
	}
	if s.fail, err = profiles.ParseStatusSet(failSpecs); err != nil {
		return nil, fmt.Errorf("outcome.fail: %w", err)
	}
	if s.Duration <= 0 && s.Iterations <= 0 && !member {
		return nil, fmt.Errorf("duration: an operation needs a duration or a request count")
	}
	if s.Burst == nil && !member {
		if s.uses(segBurst) {
			return nil, fmt.Errorf("request: {{burst}} is the index of a burst, and this operation has none (set burst, or use {{seq}})")
		}
		if s.uses(segCopy) {
			return nil, fmt.Errorf("request: {{copy}} is a copy's index within its burst, and this operation has none (set burst)")
		}
	}
	return s, nil
}

// newStep compiles one request; field prefixes its errors; vars are the
// capture names earlier steps provide.
func newStep(opName, field string, r profiles.Request, capture map[string]string, vars map[string]bool) (*Step, error) {
	st := &Step{Op: opName, Method: strings.ToUpper(r.Method)}
	if st.Method == "" {
		st.Method = http.MethodGet
	}
	if !strings.HasPrefix(r.URL, "/") {
		return nil, fmt.Errorf("%s.url: %q must be a path starting with / (the host comes from target, so traffic crosses the target link)", field, r.URL)
	}
	var err error
	if st.URL, err = CompileVars(r.URL, vars); err != nil {
		return nil, fmt.Errorf("%s.url: %w", field, err)
	}
	if st.Body, err = CompileVars(r.Body, vars); err != nil {
		return nil, fmt.Errorf("%s.body: %w", field, err)
	}
	names := make([]string, 0, len(r.Headers))
	for n := range r.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t, err := CompileVars(r.Headers[n], vars)
		if err != nil {
			return nil, fmt.Errorf("%s.headers.%s: %w", field, n, err)
		}
		st.Headers = append(st.Headers, HeaderTemplate{Name: http.CanonicalHeaderKey(n), Value: t})
	}
	if len(capture) > 0 {
		st.Capture = make(map[string][]string, len(capture))
		for name, path := range capture {
			st.Capture[name] = strings.Split(path, ".")
		}
	}
	return st, nil
}

// Classify turns an HTTP exchange into an outcome. status is 0 when no
// response arrived; sent reports whether any of the request was written.
// The ok set is consulted first, then fail; anything else is unknown.
func (s *Spec) Classify(status int, sent bool) history.Outcome {
	if status == 0 {
		if sent {
			return history.Unknown
		}
		return history.Fail
	}
	if s.ok.Has(status) {
		return history.OK
	}
	if s.fail.Has(status) {
		return history.Fail
	}
	return history.Unknown
}

// vegetaPath reports whether the operation is plain enough for vegeta's
// attacker: one request per hit, no bursts, flows or retries.
func (s *Spec) vegetaPath() bool {
	return len(s.Steps) == 1 && s.Burst == nil && s.RetryMax == 0
}

// uses reports whether any template of any step renders the given segment.
func (s *Spec) uses(k segKind) bool {
	steps := s.Steps
	if s.Burst != nil && len(s.Burst.Of) > 0 {
		// A mixed burst renders its members' requests with its own values.
		for _, m := range s.Burst.members {
			steps = append(steps[:len(steps):len(steps)], m.Steps...)
		}
	}
	for _, st := range steps {
		if st.URL.uses[k] || st.Body.uses[k] {
			return true
		}
		for _, h := range st.Headers {
			if h.Value.uses[k] {
				return true
			}
		}
	}
	return false
}

// flowRequests lists the requests of a flow's steps.
func flowRequests(steps []profiles.Step) []profiles.Request {
	out := make([]profiles.Request, len(steps))
	for i, st := range steps {
		out[i] = st.Request
	}
	return out
}
