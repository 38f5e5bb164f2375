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
	Name     string
	Method   string
	URL      *Template // path relative to the target's base URL
	Headers  []HeaderTemplate
	Body     *Template
	Rate     profiles.Rate
	Duration time.Duration // 0: bounded by Requests and MaxDuration only
	Requests int           // 0: no count bound besides Rate × Duration
	Workers  int
	// MaxWorkers caps the workers vegeta may add to hold the rate.
	MaxWorkers int
	Timeout    time.Duration // per request
	KeepAlive  bool
	Keys       int // number of distinct keys {{key}} spreads over, ≥ 1
	ok, fail   profiles.StatusSet
}

// HeaderTemplate is one request header whose value is a template.
type HeaderTemplate struct {
	Name  string
	Value *Template
}

// MaxDuration bounds an operation that has no duration of its own (only a
// request count), so that no request loop can run forever.
const MaxDuration = 10 * time.Minute

// NewSpec compiles op. Errors name the offending field relative to the
// operation, e.g. "request.url: unknown placeholder {{sq}}".
func NewSpec(op profiles.Operation) (*Spec, error) {
	s := &Spec{
		Name:       op.Name,
		Method:     strings.ToUpper(op.Request.Method),
		Rate:       op.Rate,
		Duration:   op.Duration.D(),
		Requests:   op.Requests,
		Workers:    op.Workers,
		MaxWorkers: op.MaxWorkers,
		Timeout:    op.Timeout.D(),
		KeepAlive:  op.KeepAlive == nil || *op.KeepAlive,
		Keys:       max(op.Keys, 1),
	}
	if s.Method == "" {
		s.Method = http.MethodGet
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
	if !strings.HasPrefix(op.Request.URL, "/") {
		return nil, fmt.Errorf("request.url: %q must be a path starting with / (the host comes from target, so traffic crosses the target link)", op.Request.URL)
	}
	var err error
	if s.URL, err = Compile(op.Request.URL); err != nil {
		return nil, fmt.Errorf("request.url: %w", err)
	}
	if s.Body, err = Compile(op.Request.Body); err != nil {
		return nil, fmt.Errorf("request.body: %w", err)
	}
	names := make([]string, 0, len(op.Request.Headers))
	for n := range op.Request.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t, err := Compile(op.Request.Headers[n])
		if err != nil {
			return nil, fmt.Errorf("request.headers.%s: %w", n, err)
		}
		s.Headers = append(s.Headers, HeaderTemplate{Name: http.CanonicalHeaderKey(n), Value: t})
	}
	okSpecs, failSpecs := op.Outcome.OK, op.Outcome.Fail
	if len(okSpecs) == 0 {
		okSpecs = []string{"2xx"}
	}
	if len(failSpecs) == 0 {
		failSpecs = []string{"4xx"}
	}
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

// usesUUID reports whether any template of the request needs a UUID.
func (s *Spec) usesUUID() bool {
	if s.URL.UsesUUID() || s.Body.UsesUUID() {
		return true
	}
	for _, h := range s.Headers {
		if h.Value.UsesUUID() {
			return true
		}
	}
	return false
}

// usesKey reports whether any template of the request renders {{key}}.
func (s *Spec) usesKey() bool {
	if s.URL.uses[segKey] || s.Body.uses[segKey] {
		return true
	}
	for _, h := range s.Headers {
		if h.Value.uses[segKey] {
			return true
		}
	}
	return false
}
