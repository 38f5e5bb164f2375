package fault_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/fault"
)

var builtin = []string{"bandwidth", "cut_after_statement", "latency", "limit_data", "reset_peer", "slow_close", "timeout"}

func TestNamesAndLookup(t *testing.T) {
	if got := fault.Names(); !reflect.DeepEqual(got, builtin) {
		t.Errorf("Names() = %v, want %v", got, builtin)
	}
	for _, n := range builtin {
		k, err := fault.Lookup(n)
		if err != nil || k.Name() != n {
			t.Errorf("Lookup(%s) = %v, %v", n, k, err)
		}
	}
	for _, tc := range []struct{ name, fault, want string }{
		{"unknown lists the known", "packet_loss", `unknown fault "packet_loss" (known: bandwidth, cut_after_statement, latency, limit_data, reset_peer, slow_close, timeout)`},
		{"empty lists the known", "", "required (one of bandwidth, cut_after_statement, latency, limit_data, reset_peer, slow_close, timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fault.Lookup(tc.fault)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v\nwant  %s", err, tc.want)
			}
		})
	}
}

func TestRegisterRejectsProgrammingErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"twice", func() { fault.Register("latency", fault.Latency{}) }},
		{"empty name", func() { fault.Register("", fault.Latency{}) }},
		{"not a struct", func() { fault.Register("ptr", &fault.Latency{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			tc.f()
		})
	}
}

func TestFields(t *testing.T) {
	for name, want := range map[string][]string{
		"latency": {"latency", "jitter"}, "reset_peer": {"timeout"}, "timeout": {"timeout"},
		"bandwidth": {"rate"}, "slow_close": {"delay"}, "limit_data": {"bytes"},
		"cut_after_statement": {"after", "match", "scope", "every"},
	} {
		k, _ := fault.Lookup(name)
		if got := k.Fields(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Fields() = %v, want %v", name, got, want)
		}
	}
}

// TestCheck: each kind's checks (defaults applied: nil Params), with the
// field each error names.
func TestCheck(t *testing.T) {
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	for _, tc := range []struct {
		name   string
		kind   string
		params fault.Params
		want   string // "" valid; else "field: message" prefix
	}{
		{"latency ok", "latency", fault.Latency{Latency: ms(20), Jitter: ms(20)}, ""},
		{"latency ok as a pointer", "latency", &fault.Latency{Latency: ms(20)}, ""},
		{"latency missing", "latency", nil, "latency: must be > 0"},
		{"latency negative", "latency", fault.Latency{Latency: -1}, "latency: must not be negative"},
		{"latency sub-ms", "latency", fault.Latency{Latency: ms(0.5)}, "latency: must be at least 1ms"},
		{"latency jitter too big", "latency", fault.Latency{Latency: ms(10), Jitter: ms(20)}, "jitter: must not exceed latency (10ms), got 20ms"},
		{"latency jitter negative", "latency", fault.Latency{Latency: ms(10), Jitter: -1}, "jitter: must not be negative"},
		{"params of another kind", "latency", fault.Bandwidth{Rate: 1}, "fault: latency takes fault.Latency, not fault.Bandwidth"},
		{"reset_peer at once", "reset_peer", nil, ""},
		{"reset_peer after timeout", "reset_peer", fault.ResetPeer{Timeout: ms(100)}, ""},
		{"reset_peer timeout negative", "reset_peer", fault.ResetPeer{Timeout: -1}, "timeout: must not be negative"},
		{"timeout forever", "timeout", nil, ""},
		{"timeout 2s", "timeout", fault.Timeout{Timeout: 2 * time.Second}, ""},
		{"timeout sub-ms", "timeout", fault.Timeout{Timeout: 10 * time.Microsecond}, "timeout: must be at least 1ms"},
		{"bandwidth ok", "bandwidth", fault.Bandwidth{Rate: 64}, ""},
		{"bandwidth missing", "bandwidth", nil, "rate: must be > 0 (KB/s), got 0"},
		{"bandwidth negative", "bandwidth", fault.Bandwidth{Rate: -5}, "rate: must be > 0 (KB/s), got -5"},
		{"slow_close ok", "slow_close", fault.SlowClose{Delay: time.Second}, ""},
		{"slow_close missing", "slow_close", nil, "delay: must be > 0"},
		{"limit_data ok", "limit_data", fault.LimitData{Bytes: 1024}, ""},
		{"limit_data missing", "limit_data", nil, "bytes: must be > 0, got 0"},
		{"limit_data negative", "limit_data", fault.LimitData{Bytes: -1}, "bytes: must be > 0, got -1"},
		{"cut_after_statement defaults", "cut_after_statement", nil, ""},
		{"cut_after_statement in a transaction", "cut_after_statement", fault.CutAfterStatement{After: 2, Match: "(?i)^insert", Scope: "transaction", Every: true}, ""},
		{"cut_after_statement after 0", "cut_after_statement", fault.CutAfterStatement{After: 0, Scope: "connection"}, "after: must be ≥ 1"},
		{"cut_after_statement bad match", "cut_after_statement", fault.CutAfterStatement{After: 1, Match: "(insert", Scope: "connection"}, "match: error parsing regexp"},
		{"cut_after_statement bad scope", "cut_after_statement", fault.CutAfterStatement{After: 1, Scope: "request"}, `scope: invalid scope "request" (want connection or transaction)`},
		{"cut_after_statement empty scope", "cut_after_statement", fault.CutAfterStatement{After: 1}, `scope: invalid scope ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := fault.Lookup(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			_, err = k.Check(tc.params)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check = %v, want valid", err)
			case tc.want != "" && err == nil:
				t.Errorf("Check = nil, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Errorf("Check = %q, want it to start with %q", err, tc.want)
			}
			if fe, ok := errors.AsType[*fault.FieldError](err); ok && !strings.HasPrefix(tc.want, fe.Field+": ") {
				t.Errorf("FieldError.Field = %q for %q", fe.Field, tc.want)
			}
		})
	}
}

func TestToxic(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		params fault.Params
		attrs  map[string]any
	}{
		{"latency", fault.Latency{Latency: 150 * time.Millisecond, Jitter: 20 * time.Millisecond}, map[string]any{"latency": int64(150), "jitter": int64(20)}},
		{"latency", fault.Latency{Latency: 1500 * time.Microsecond}, map[string]any{"latency": int64(1), "jitter": int64(0)}},
		{"reset_peer", fault.ResetPeer{Timeout: 2 * time.Second}, map[string]any{"timeout": int64(2000)}},
		{"timeout", nil, map[string]any{"timeout": int64(0)}},
		{"bandwidth", fault.Bandwidth{Rate: 64}, map[string]any{"rate": int64(64)}},
		{"slow_close", fault.SlowClose{Delay: time.Second}, map[string]any{"delay": int64(1000)}},
		{"limit_data", fault.LimitData{Bytes: 4096}, map[string]any{"bytes": int64(4096)}},
		{"cut_after_statement", nil, map[string]any{"after": 1, "match": "", "scope": "connection", "every": false}},
	} {
		k, err := fault.Lookup(tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Check(tc.params)
		if err != nil {
			t.Fatal(err)
		}
		typ, attrs := k.Toxic(p)
		if typ != tc.kind || !reflect.DeepEqual(attrs, tc.attrs) {
			t.Errorf("%s: Toxic = %s %v, want %s %v", tc.kind, typ, attrs, tc.kind, tc.attrs)
		}
	}
}

// TestNewCopiesDefaults: New gives a fresh copy each time, so that decoding
// into one never changes the registered defaults.
func TestNewCopiesDefaults(t *testing.T) {
	k, _ := fault.Lookup("latency")
	p := k.New().(*fault.Latency)
	p.Latency = time.Second
	if q := k.New().(*fault.Latency); q.Latency != 0 {
		t.Fatalf("defaults changed: %+v", q)
	}
}

// TestWire: only the tap's kinds are Wire.
func TestWire(t *testing.T) {
	for _, n := range builtin {
		k, _ := fault.Lookup(n)
		if want := n == "cut_after_statement"; k.Wire() != want {
			t.Errorf("%s: Wire() = %v, want %v", n, k.Wire(), want)
		}
	}
}
