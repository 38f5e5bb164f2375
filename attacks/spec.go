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
	Duration time.Duration  // 0: bounded by Requests and MaxDuration only
	Requests int            // 0: no count bound besides Rate × Duration
	Workers  int
	// MaxWorkers caps the workers vegeta may add to hold the rate.
	MaxWorkers int
	Timeout    time.Duration // per request
	KeepAlive  bool
	Keys       int // number of distinct keys {{key}} spreads over, ≥ 1
	// Burst is how many copies of one request are released together (0: no
	// bursts).
	Burst int
	// RetryMax and RetryBackoff resend a request with an unknown outcome.
	RetryMax     int
	RetryBackoff time.Duration
	ok, fail     profiles.StatusSet
}

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

// NewSpec compiles op. vars are the names of the run-wide variables
// (captured by setup; their values come with Options.Vars) that templates
// may use as {{name}}. Errors name the offending field relative to the
// operation, e.g. "request.url: unknown placeholder {{sq}}".
func NewSpec(op profiles.Operation, vars ...string) (*Spec, error) {
	runVars := make(map[string]bool, len(vars))
	for _, v := range vars {
		runVars[v] = true
	}
	s := &Spec{
		Name:         op.Name,
		Rate:         op.Rate,
		RampTo:       op.RampTo,
		Duration:     op.Duration.D(),
		Requests:     op.Requests,
		Workers:      op.Workers,
		MaxWorkers:   op.MaxWorkers,
		Timeout:      op.Timeout.D(),
		KeepAlive:    op.KeepAlive == nil || *op.KeepAlive,
		Keys:         max(op.Keys, 1),
		Burst:        op.Burst,
		RetryMax:     op.Retry.Max,
		RetryBackoff: op.Retry.Backoff.D(),
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
	if len(op.Flow) == 0 {
		st, err := newStep(op.Name, "request", op.Request, op.Capture, runVars)
		if err != nil {
			return nil, err
		}
		s.Steps = []*Step{st}
	} else {
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
	if s.Duration <= 0 && s.Requests <= 0 {
		return nil, fmt.Errorf("duration: an operation needs a duration or a request count")
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
	return len(s.Steps) == 1 && s.Burst == 0 && s.RetryMax == 0
}

// uses reports whether any template of any step renders the given segment.
func (s *Spec) uses(k segKind) bool {
	for _, st := range s.Steps {
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
