package attacks

// Benchmarks of the per-request work collide adds on top of vegeta's
// attacker: rendering a target, the RoundTrip that links vegeta's sequence
// number to the op, turning a result into a history op, and, end to end,
// attacks.Run against vegeta's bare Attacker on one in-process server.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

func benchRun(b *testing.B, op profiles.Operation) *opRun {
	b.Helper()
	s, err := NewSpec(op)
	if err != nil {
		b.Fatal(err)
	}
	return &opRun{spec: s, opts: Options{BaseURL: "http://127.0.0.1:8080", History: history.NewWriter(io.Discard), Rand: rand.New(rand.NewPCG(1, 2))},
		rng: &lockedRand{r: rand.New(rand.NewPCG(1, 2))}, ids: &atomic.Uint64{}, usesUUID: s.uses(segUUID), usesKey: s.uses(segKey)}
}

var benchOps = map[string]profiles.Operation{
	"literal": {Name: "get", Request: profiles.Request{Method: "GET", URL: "/healthz"}, Requests: 1},
	"templated": {Name: "create", Request: profiles.Request{Method: "POST", URL: "/orders/{{key}}",
		Headers: map[string]string{"Idempotency-Key": "order-{{uuid}}"}, Body: `{"item":"{{uuid}}","seq":{{seq}}}`}, Keys: profiles.Keys{Count: 100}, Requests: 1},
}

// BenchmarkTargeter is the targeter vegeta's workers call per request:
// values, URL, body and headers rendered, the op parked until RoundTrip.
func BenchmarkTargeter(b *testing.B) {
	for _, name := range []string{"literal", "templated"} {
		b.Run(name, func(b *testing.B) {
			r := benchRun(b, benchOps[name])
			r.spec.Iterations = 0
			tr := r.targeter()
			var t vegeta.Target
			b.ReportAllocs()
			for b.Loop() {
				if err := tr(&t); err != nil {
					b.Fatal(err)
				}
				id, _ := strconv.ParseUint(t.Header.Get(OpHeader), 10, 64)
				r.pending.Delete(id) // RoundTrip's share, so the map stays small
			}
		})
	}
}

// staticTransport answers every request at once without a network.
type staticTransport struct{}

func (staticTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// BenchmarkRoundTrip compares a request sent straight to a transport with
// the same request through collide's RoundTrip wrapper (op lookup by
// header, the seq link, the WroteHeaders trace).
func BenchmarkRoundTrip(b *testing.B) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/healthz", nil)
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			req.Header.Set(OpHeader, strconv.Itoa(i))
			req.Header.Set("X-Vegeta-Seq", strconv.Itoa(i))
			if _, err := (staticTransport{}).RoundTrip(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("collide", func(b *testing.B) {
		r := benchRun(b, benchOps["literal"])
		r.transport = staticTransport{}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			id := uint64(i)
			r.pending.Store(id, &reqMeta{id: id})
			req.Header.Set(OpHeader, strconv.Itoa(i))
			req.Header.Set("X-Vegeta-Seq", strconv.Itoa(i))
			if _, err := r.RoundTrip(req); err != nil {
				b.Fatal(err)
			}
			r.bySeq.Delete(id) // the result loop's share
		}
	})
}

// BenchmarkResult is the result loop's work per response: the op built,
// classified, counted in the metrics and appended to the history (to
// io.Discard, so the encoding is measured, not the disk).
func BenchmarkResult(b *testing.B) {
	r := benchRun(b, benchOps["literal"])
	s := r.spec
	var vm vegeta.Metrics
	m := &Metrics{Op: s.Name}
	t0 := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		meta := &reqMeta{id: uint64(i), vars: Vars{Seq: uint64(i)}}
		meta.sent.Store(true)
		res := &vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: t0, Latency: 300 * time.Microsecond, Body: []byte(`{"ok":true}`)}
		op := &history.Op{ID: meta.id, Op: s.Name, Key: meta.vars.Key, Worker: int(res.Seq), Invoke: res.Timestamp, Complete: res.End(),
			Status: int(res.Code), Sent: meta.sent.Load(), Values: valuesOf(&meta.vars)}
		op.Outcome = s.Classify(op.Status, op.Sent)
		if err := r.record(m, &vm, op, res); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordRetained measures what the metrics keep per failed request
// whose error text is unique (a transport error quotes the URL, and a
// templated URL differs per request): vegeta.Metrics keeps every distinct
// error in Errors, though collide reads only its own first ten.
func BenchmarkRecordRetained(b *testing.B) {
	for _, unique := range []bool{false, true} {
		b.Run(fmt.Sprintf("unique_errors=%v", unique), func(b *testing.B) {
			r := benchRun(b, benchOps["literal"])
			var vm vegeta.Metrics
			m := &Metrics{Op: r.spec.Name}
			t0 := time.Now()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n := 0
			for i := 0; b.Loop(); i++ {
				e := `Get "http://127.0.0.1:8080/items/0": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
				if unique {
					e = `Get "http://127.0.0.1:8080/items/` + strconv.Itoa(i) + `": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
				}
				res := &vegeta.Result{Seq: uint64(i), Timestamp: t0, Latency: time.Second, Error: e}
				op := &history.Op{ID: uint64(i), Op: "get", Invoke: t0, Complete: t0.Add(time.Second), Sent: true, Error: e, Outcome: history.Unknown}
				if err := r.record(m, &vm, op, res); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "retained-B/op")
			runtime.KeepAlive(&vm)
		})
	}
}

// benchServer is a loopback server answering like the demo's /healthz.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	body := []byte(`{"ok":true,"mode":"safe"}` + "\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

const benchWorkers = 8

// passThrough is a RoundTripper that is not an *http.Transport, as
// collide's opRun is: http.Client then enforces Client.Timeout with a timer
// goroutine per request instead of a context deadline.
type passThrough struct{ rt http.RoundTripper }

func (p passThrough) RoundTrip(req *http.Request) (*http.Response, error) { return p.rt.RoundTrip(req) }

// ctxTimeout enforces the timeout itself with a context deadline, cancelled
// when the response body is closed (what http.Client does for an
// *http.Transport), so the client needs no Timeout of its own.
type ctxTimeout struct {
	rt      http.RoundTripper
	timeout time.Duration
}

func (c ctxTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	return roundTripWithin(req.Context(), c.rt, req, c.timeout)
}

// vegetaAttack runs b.N requests through vegeta's Attacker with the client
// wrap builds around the transport, results gob-encoded as the CLI does.
func vegetaAttack(b *testing.B, wrap func(*http.Transport) *http.Client) {
	srv := benchServer(b)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: benchWorkers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Workers(benchWorkers), vegeta.MaxWorkers(benchWorkers), vegeta.MaxBody(64<<10), vegeta.Client(wrap(tr)))
	var n atomic.Int64
	limit := int64(b.N)
	static := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: srv.URL + "/healthz"})
	targeter := func(t *vegeta.Target) error {
		if n.Add(1) > limit {
			return vegeta.ErrNoTargets
		}
		return static(t)
	}
	bw := bufio.NewWriter(io.Discard)
	enc := vegeta.NewEncoder(bw)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	got := 0
	for res := range atk.Attack(targeter, vegeta.ConstantPacer{}, time.Minute, "bench") {
		if res.Error == vegeta.ErrNoTargets.Error() {
			continue
		}
		if res.Code != 200 {
			b.Fatalf("status %d: %s", res.Code, res.Error)
		}
		if err := enc.Encode(res); err != nil {
			b.Fatal(err)
		}
		got++
	}
	b.StopTimer()
	reportCPU(b, cpu0)
	if got != b.N {
		b.Fatalf("%d results, want %d", got, b.N)
	}
}

// processCPU is this process's user+system time so far (client and
// in-process server together).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since cpu0: steadier than ns/op on
// a shared machine, where other processes stretch the wall clock.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAttack sends b.N requests as fast as benchWorkers workers go, on
// one in-process loopback server: "vegeta" is vegeta's Attacker with its
// results gob-encoded as the vegeta CLI does (to io.Discard), "collide" is
// attacks.Run with the history encoded (to io.Discard). The difference per
// op is what collide adds; the server's share is the same in both.
// "vegeta_wrapped_rt" puts a pass-through RoundTripper between vegeta's
// client and the transport, as collide does; "vegeta_wrapped_rt_ctx_timeout"
// also moves the timeout from Client.Timeout into a context deadline.
func BenchmarkAttack(b *testing.B) {
	const timeout = 5 * time.Second
	b.Run("vegeta", func(b *testing.B) {
		vegetaAttack(b, func(tr *http.Transport) *http.Client { return &http.Client{Timeout: timeout, Transport: tr} })
	})
	b.Run("vegeta_wrapped_rt", func(b *testing.B) {
		vegetaAttack(b, func(tr *http.Transport) *http.Client {
			return &http.Client{Timeout: timeout, Transport: passThrough{tr}}
		})
	})
	b.Run("vegeta_wrapped_rt_ctx_timeout", func(b *testing.B) {
		vegetaAttack(b, func(tr *http.Transport) *http.Client { return &http.Client{Transport: ctxTimeout{tr, timeout}} })
	})
	b.Run("collide", func(b *testing.B) {
		srv := benchServer(b)
		s, err := NewSpec(profiles.Operation{Name: "get", Request: profiles.Request{Method: "GET", URL: "/healthz"},
			Requests: b.N, Duration: profiles.Duration(time.Minute), Workers: benchWorkers, Timeout: profiles.Duration(timeout)})
		if err != nil {
			b.Fatal(err)
		}
		hw := history.NewWriter(io.Discard)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := processCPU()
		ms, err := Run(context.Background(), Options{BaseURL: srv.URL, History: hw, Rand: rand.New(rand.NewPCG(1, 2))}, []*Spec{s})
		b.StopTimer()
		reportCPU(b, cpu0)
		if err != nil {
			b.Fatal(err)
		}
		if ms[0].OK != b.N || hw.Len() != b.N {
			b.Fatalf("%d ok, %d ops, want %d (%s)", ms[0].OK, hw.Len(), b.N, strings.Join(ms[0].Errors, "; "))
		}
	})
}
