package attacks

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

func runSpecs(t *testing.T, base string, ops ...profiles.Operation) ([]*Metrics, []history.Op) {
	t.Helper()
	ms, hist, err := attackOps(t, base, ops...)
	if err != nil {
		t.Fatal(err)
	}
	return ms, hist
}

// TestBurst: every copy of a burst carries the same rendered values and is
// in flight at once; the spread of release times is measured. A copy's
// handler answers once all 10 copies of its burst have arrived (or after
// 5s): a burst whose copies were not all in flight together never reaches
// a peak of 10, however slow the machine.
func TestBurst(t *testing.T) {
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	keys := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		keys[key]++
		mu.Unlock()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			mu.Lock()
			all := keys[key] >= 10
			mu.Unlock()
			if all {
				break
			}
		}
		inFlight.Add(-1)
		w.WriteHeader(201)
	}))
	defer srv.Close()
	ms, hist := runSpecs(t, srv.URL, profiles.Operation{
		Name: "create", Request: profiles.Request{Method: "POST", URL: "/orders", Headers: map[string]string{"Idempotency-Key": "{{uuid}}"}},
		Burst: &profiles.Burst{Copies: 10, Sync: "barrier"}, Bursts: 5, Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(3 * time.Second), Workers: 1, MaxWorkers: 1,
	})
	if len(hist) != 50 {
		t.Fatalf("%d ops, want 5 bursts × 10", len(hist))
	}
	if len(keys) != 5 {
		t.Fatalf("%d distinct keys, want 5 (one per burst): %v", len(keys), keys)
	}
	for k, n := range keys {
		if n != 10 {
			t.Fatalf("key %s sent %d times, want 10", k, n)
		}
	}
	if p := peak.Load(); p < 10 {
		t.Fatalf("peak concurrency %d, want the whole burst (10) in flight at once", p)
	}
	m := ms[0]
	// The whole burst in flight at once is asserted above; how tight the
	// release is, is a timing target for the benchmarks
	// (release_bench_test.go), not for a loaded test machine.
	if m.Bursts != 5 || m.ReleaseSpreadMax <= 0 {
		t.Fatalf("bursts %d, spread p50 %v max %v", m.Bursts, m.ReleaseSpreadP50, m.ReleaseSpreadMax)
	}
	t.Logf("burst of 10: release spread p50 %v, max %v", m.ReleaseSpreadP50, m.ReleaseSpreadMax)
}

// TestFlowCaptures: a flow reads a version and writes with it; the write
// carries the captured value and both steps are in the history.
func TestFlowCaptures(t *testing.T) {
	var version atomic.Int64
	var stale atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"doc": map[string]any{"version": version.Load()}})
		case http.MethodPut:
			var body struct{ Version int64 }
			json.NewDecoder(r.Body).Decode(&body)
			if !version.CompareAndSwap(body.Version, body.Version+1) {
				stale.Add(1)
				w.WriteHeader(http.StatusConflict)
				return
			}
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	ms, hist := runSpecs(t, srv.URL, profiles.Operation{
		Name: "edit",
		Flow: []profiles.Step{
			{Name: "read", Request: profiles.Request{Method: "GET", URL: "/doc"}, Capture: map[string]string{"version": "doc.version"}},
			{Name: "write", Request: profiles.Request{Method: "PUT", URL: "/doc", Body: `{"version": {{version}}}`}},
		},
		Requests: 40, Rate: profiles.Rate{Freq: 200, Per: time.Second}, Duration: profiles.Duration(2 * time.Second), Workers: 8,
	})
	var reads, writes, okWrites int
	for _, op := range hist {
		switch op.Op {
		case "edit.read":
			reads++
			if _, ok := op.Captures["version"]; !ok {
				t.Fatalf("read op without captured version: %+v", op)
			}
		case "edit.write":
			writes++
			if op.Values["version"] == "" {
				t.Fatalf("write op without the version it sent: %+v", op)
			}
			if op.Outcome == history.OK {
				okWrites++
			}
		}
	}
	if reads != 40 || writes != 40 {
		t.Fatalf("reads %d writes %d, want 40 each", reads, writes)
	}
	if int64(okWrites) != version.Load() || int64(writes-okWrites) != stale.Load() {
		t.Fatalf("ok writes %d vs version %d; rejected %d vs stale %d", okWrites, version.Load(), writes-okWrites, stale.Load())
	}
	if ms[0].Requests != 80 {
		t.Fatalf("metrics count %d requests, want 80", ms[0].Requests)
	}
}

// TestRetries: an unknown outcome is resent with the same values; the
// attempts share a logical id.
func TestRetries(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get("Idempotency-Key")
		mu.Lock()
		seen[k]++
		n := seen[k]
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway) // unknown by default
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	_, hist := runSpecs(t, srv.URL, profiles.Operation{
		Name: "pay", Request: profiles.Request{Method: "POST", URL: "/pay", Headers: map[string]string{"Idempotency-Key": "k-{{seq}}"}},
		Retry: profiles.Retry{Max: 3, Backoff: profiles.Duration(5 * time.Millisecond)}, Requests: 4,
		Rate: profiles.Rate{Freq: 100, Per: time.Second}, Duration: profiles.Duration(2 * time.Second),
	})
	if len(hist) != 12 {
		t.Fatalf("%d ops, want 4 logical × 3 attempts", len(hist))
	}
	byLogical := map[uint64][]history.Op{}
	for _, op := range hist {
		byLogical[op.Logical] = append(byLogical[op.Logical], op)
	}
	if len(byLogical) != 4 {
		t.Fatalf("%d logical ops, want 4", len(byLogical))
	}
	for l, ops := range byLogical {
		for _, op := range ops {
			want := history.Unknown
			if op.Attempt == 3 {
				want = history.OK
			}
			if op.Outcome != want || op.Values["seq"] != ops[0].Values["seq"] {
				t.Fatalf("logical %d: %+v", l, op)
			}
		}
	}
	for k, n := range seen {
		if n != 3 {
			t.Fatalf("key %s sent %d times, want 3", k, n)
		}
	}
}

// TestRampPacing: the pacer of a ramp from 10/s to 100/s over 1s has 55
// hits due by the end ((10+100)/2), densest at the end; a constant 20/s
// has 20. Pure arithmetic on vegeta's pacers: no clock involved.
func TestRampPacing(t *testing.T) {
	ramp := profiles.Rate{Freq: 100, Per: time.Second}
	for _, tc := range []struct {
		name      string
		spec      Spec
		due       uint64 // hits due by the end of the duration
		firstHalf uint64 // of which due by half of it
	}{
		{"ramp 10/s to 100/s", Spec{Rate: profiles.Rate{Freq: 10, Per: time.Second}, RampTo: &ramp, Duration: time.Second}, 55, 16},
		{"constant 20/s", Spec{Rate: profiles.Rate{Freq: 20, Per: time.Second}, Duration: time.Second}, 20, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.spec.pacer()
			if got := hitsDue(p, time.Second); got != tc.due {
				t.Errorf("%d hits due by 1s, want %d", got, tc.due)
			}
			if got := hitsDue(p, 500*time.Millisecond); got != tc.firstHalf {
				t.Errorf("%d hits due by 500ms, want %d", got, tc.firstHalf)
			}
		})
	}
}

// hitsDue counts the hits pacer p lets go without waiting by elapsed.
func hitsDue(p interface {
	Pace(time.Duration, uint64) (time.Duration, bool)
}, elapsed time.Duration) uint64 {
	var hits uint64
	for hits < 1_000_000 {
		if wait, stop := p.Pace(elapsed, hits); wait > 0 || stop {
			break
		}
		hits++
	}
	return hits
}

// TestRampAndConcurrentOperations: two operations run at once, each paced
// by its own pacer. A loaded machine may send fewer requests than are due,
// never more; how many per second is TestRampPacing's business.
func TestRampAndConcurrentOperations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ramp := profiles.Rate{Freq: 100, Per: time.Second}
	ms, hist := runSpecs(t, srv.URL,
		profiles.Operation{Name: "ramp", Request: profiles.Request{Method: "GET", URL: "/a"}, Rate: profiles.Rate{Freq: 10, Per: time.Second},
			RampTo: &ramp, Duration: profiles.Duration(time.Second)},
		profiles.Operation{Name: "flat", Request: profiles.Request{Method: "GET", URL: "/b"}, Rate: profiles.Rate{Freq: 20, Per: time.Second},
			Duration: profiles.Duration(time.Second)},
	)
	counts := map[string]int{}
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, op := range hist {
		counts[op.Op]++
		if f, ok := first[op.Op]; !ok || op.Invoke.Before(f) {
			first[op.Op] = op.Invoke
		}
		if op.Invoke.After(last[op.Op]) {
			last[op.Op] = op.Invoke
		}
	}
	t.Logf("ramp sent %d (55 due), flat %d (20 due)", counts["ramp"], counts["flat"])
	if n := counts["ramp"]; n < 2 || n > 56 {
		t.Fatalf("ramp sent %d, want at least 2 and at most the 55 (+1 at the boundary) due", n)
	}
	if n := counts["flat"]; n < 2 || n > 21 {
		t.Fatalf("flat sent %d, want at least 2 and at most the 20 (+1 at the boundary) due", n)
	}
	// At once: each operation's first request went before the other's last.
	if !first["ramp"].Before(last["flat"]) || !first["flat"].Before(last["ramp"]) {
		t.Fatalf("the operations ran one after the other: ramp %v–%v, flat %v–%v", first["ramp"], last["ramp"], first["flat"], last["flat"])
	}
	if ms[0].Op != "ramp" || ms[1].Op != "flat" {
		t.Fatalf("metrics order %s, %s", ms[0].Op, ms[1].Op)
	}
}

func TestCapture(t *testing.T) {
	body := []byte(`{"id": 42, "data": {"version": 7, "price": 1.5, "tags": ["a", "b"], "ok": true, "name": "x"}}`)
	got := capture(map[string][]string{
		"id": {"id"}, "version": {"data", "version"}, "price": {"data", "price"}, "tag": {"data", "tags", "1"},
		"ok": {"data", "ok"}, "missing": {"data", "nope"}, "name": {"data", "name"},
	}, body)
	want := map[string]string{"id": "42", "version": "7", "price": "1.5", "tag": "b", "ok": "true", "name": "x"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if text(got[k]) != v {
			t.Errorf("%s = %v, want %s", k, got[k], v)
		}
	}
	if capture(map[string][]string{"a": {"a"}}, []byte("not json")) != nil {
		t.Fatal("captures from a non-JSON body")
	}
}
