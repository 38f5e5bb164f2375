package profiles

import "time"

// Defaults filled in by Parse; docs/profiles.md lists them.
const (
	defaultWorkers       = 16
	defaultMinMaxWorkers = 64
	defaultTimeout       = 5 * time.Second
	defaultKeys          = 1
	defaultSettle        = 200 * time.Millisecond
	defaultStepTimeout   = 10 * time.Second
	defaultThink         = 0
	defaultMaxUnknown    = 0.5
	defaultToxicity      = 1.0
	defaultStream        = "downstream"
)

var (
	defaultOK   = []string{"2xx"}
	defaultFail = []string{"4xx"}
)

// applyDefaults fills every unset field that has a default; Parse calls it
// after validation, so a parsed profile needs no further defaulting. The
// accessors below (KeepAliveOn, ToxicityValue, …) give the same defaults
// for profiles built in code.
func (p *Profile) applyDefaults() {
	if p.Version == 0 {
		p.Version = Version
	}
	if p.Settle == 0 {
		p.Settle = Duration(defaultSettle)
	}
	if d := p.Target.Demo; d != nil && d.Think == 0 {
		d.Think = Duration(defaultThink)
	}
	p.applyStackDefaults()
	for i := range p.Chaos {
		f := &p.Chaos[i]
		if f.Stream == "" {
			f.Stream = defaultStream
		}
		if f.Toxicity == nil {
			f.Toxicity = ptr(defaultToxicity)
		}
	}
	for i := range p.Operations {
		o := &p.Operations[i]
		if o.Workers == 0 {
			o.Workers = defaultWorkers
		}
		if o.MaxWorkers == 0 {
			o.MaxWorkers = defaultMaxWorkers(o.Workers)
		}
		if o.Timeout == 0 {
			o.Timeout = Duration(defaultTimeout)
		}
		if o.KeepAlive == nil {
			o.KeepAlive = ptr(true)
		}
		if o.Keys.IsZero() {
			o.Keys.Count = defaultKeys
		}
		if len(o.Outcome.OK) == 0 {
			o.Outcome.OK = append([]string(nil), defaultOK...)
		}
		if len(o.Outcome.Fail) == 0 {
			o.Outcome.Fail = append([]string(nil), defaultFail...)
		}
	}
	for _, steps := range [][]SetupStep{p.Setup, p.Teardown} {
		for i := range steps {
			st := &steps[i]
			if st.Request == nil {
				continue
			}
			if len(st.Outcome.OK) == 0 {
				st.Outcome.OK = append([]string(nil), defaultOK...)
			}
			if st.Timeout == 0 {
				st.Timeout = Duration(defaultStepTimeout)
			}
		}
	}
	if p.Verdict.MaxUnknown == nil {
		p.Verdict.MaxUnknown = ptr(defaultMaxUnknown)
	}
}

func ptr[T any](v T) *T { return &v }

func defaultMaxWorkers(workers int) int { return max(4*workers, defaultMinMaxWorkers) }

// KeepAliveOn reports whether the operation reuses connections (default
// true).
func (o Operation) KeepAliveOn() bool { return o.KeepAlive == nil || *o.KeepAlive }

// Budget is the most requests the operation may send: Requests when set,
// else Rate × Duration, and never more than MaxRequests (the bound of an
// operation at rate max without a request count).
func (o Operation) Budget() int {
	if o.Requests > 0 {
		return min(o.Requests, MaxRequests)
	}
	if o.Rate.Max() {
		return MaxRequests
	}
	return int(min(paced(o.Rate, o.Duration), MaxRequests))
}

// OKSet is the set of statuses counted as ok (default 2xx).
func (r OutcomeRules) OKSet() StatusSet {
	if len(r.OK) == 0 {
		return mustStatusSet(defaultOK)
	}
	return mustStatusSet(r.OK)
}

// FailSet is the set of statuses counted as fail (default 4xx). A status
// in both sets counts as ok: callers test OKSet first.
func (r OutcomeRules) FailSet() StatusSet {
	if len(r.Fail) == 0 {
		return mustStatusSet(defaultFail)
	}
	return mustStatusSet(r.Fail)
}

// StreamValue is the direction the fault acts on (default downstream).
func (f Fault) StreamValue() string {
	if f.Stream == "" {
		return defaultStream
	}
	return f.Stream
}

// ToxicityValue is the probability the fault applies (default 1).
func (f Fault) ToxicityValue() float64 {
	if f.Toxicity == nil {
		return defaultToxicity
	}
	return *f.Toxicity
}

// MaxUnknownValue is the largest unknown fraction with which a clean run
// still passes (default 0.5).
func (v VerdictPolicy) MaxUnknownValue() float64 {
	if v.MaxUnknown == nil {
		return defaultMaxUnknown
	}
	return *v.MaxUnknown
}
