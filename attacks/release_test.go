package attacks

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// seen is what a test server saw of each request, by op id.
type seen struct {
	mu    sync.Mutex
	ready map[uint64]time.Time // when its body had been read: the request was complete
	proto map[uint64]int       // HTTP major version
	keys  map[string]int       // Idempotency-Key → count
	burst map[uint64]string    // X-Collide-Burst
}

// startServer serves HTTP/1.1 and, when h2c, HTTP/2 with prior knowledge,
// on loopback; status picks each response's status (nil: 201).
func startServer(t testing.TB, h2c bool, status func(r *http.Request) int) (string, *seen) {
	t.Helper()
	sn := &seen{ready: map[uint64]time.Time{}, proto: map[uint64]int{}, keys: map[string]int{}, burst: map[uint64]string{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		id, err := strconv.ParseUint(r.Header.Get(OpHeader), 10, 64)
		if err != nil {
			// Not collide's attack: the HTTP/2 preface of its protocol
			// probe, which Go's HTTP/1.1 server hands to handlers.
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sn.mu.Lock()
		sn.ready[id] = now
		sn.proto[id] = r.ProtoMajor
		sn.keys[r.Header.Get("Idempotency-Key")]++
		sn.burst[id] = r.Header.Get(BurstHeader)
		sn.mu.Unlock()
		code := http.StatusCreated
		if status != nil {
			code = status(r)
		}
		w.WriteHeader(code)
		io.WriteString(w, `{"ok":true}`)
	})}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(h2c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), sn
}

// attackOps compiles ops with NewSpecs and runs them, returning the
// metrics, the history and Prepare's error.
func attackOps(t *testing.T, base string, ops ...profiles.Operation) ([]*Metrics, []history.Op, error) {
	t.Helper()
	specs, err := NewSpecs(ops)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "h.jsonl")
	hw, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	atk, err := Prepare(context.Background(), Options{BaseURL: base, History: hw, Rand: rand.New(rand.NewPCG(1, 2))}, specs)
	if err != nil {
		hw.Close()
		return nil, nil, err
	}
	ms, err := atk.Run(context.Background())
	atk.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	hist, err := history.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	return ms, hist, nil
}

// TestReleaseModes: every mode sends each burst's copies with the same
// rendered values, reports its mode and spreads, records each op's invoke
// time as its release, and — for the held-back modes — no copy is complete
// at the server before its release.
func TestReleaseModes(t *testing.T) {
	for _, tc := range []struct {
		name, sync, method, body string
		h2c                      bool
		wantProto                int
		heldBack                 bool
	}{
		{"barrier POST", "barrier", "POST", `{"item":"book"}`, false, 1, false},
		{"last-byte POST", "last-byte", "POST", `{"item":"book"}`, false, 1, true},
		{"last-byte GET", "last-byte", "GET", "", false, 1, true},
		{"single-packet POST", "single-packet", "POST", `{"item":"book"}`, true, 2, true},
		{"single-packet GET", "single-packet", "GET", "", true, 2, true},
		{"auto on HTTP/2", "", "POST", `{"a":1}`, true, 2, true},
		{"auto on HTTP/1.1", "", "POST", `{"a":1}`, false, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, sn := startServer(t, tc.h2c, nil)
			ms, hist, err := attackOps(t, base, profiles.Operation{
				Name: "create", Request: profiles.Request{Method: tc.method, URL: "/orders/{{burst}}", Body: tc.body,
					Headers: map[string]string{"Idempotency-Key": "k-{{uuid}}"}},
				Burst: &profiles.Burst{Copies: 10, Sync: tc.sync}, Bursts: 3,
				Rate: profiles.Rate{Freq: 20, Per: time.Second}, Duration: profiles.Duration(2 * time.Second),
				Workers: 1, MaxWorkers: 4, Timeout: profiles.Duration(5 * time.Second),
			})
			if err != nil {
				t.Fatal(err)
			}
			m := ms[0]
			wantSync := tc.sync
			if wantSync == "" {
				wantSync = map[int]string{1: "last-byte", 2: "single-packet"}[tc.wantProto]
			}
			if m.Sync != wantSync || m.Bursts != 3 || m.OK != 30 {
				t.Fatalf("sync %q, %d bursts, %d ok; want %q, 3, 30 (metrics %+v)", m.Sync, m.Bursts, m.OK, wantSync, m)
			}
			if m.ReleaseSpreadMax <= 0 || m.ReleaseSpreadP50 > m.ReleaseSpreadMax {
				t.Fatalf("release spread p50 %v max %v", m.ReleaseSpreadP50, m.ReleaseSpreadMax)
			}
			if len(hist) != 30 || len(sn.keys) != 3 {
				t.Fatalf("%d ops and %d distinct keys, want 30 and 3", len(hist), len(sn.keys))
			}
			for k, n := range sn.keys {
				if n != 10 {
					t.Fatalf("key %s sent %d times, want 10", k, n)
				}
			}
			for _, op := range hist {
				if op.Outcome != history.OK || !op.Sent || op.Values["burst"] == "" || sn.burst[op.ID] != op.Values["burst"] {
					t.Fatalf("op %+v: want ok, sent, its burst index in values and in %s (server saw %q)", op, BurstHeader, sn.burst[op.ID])
				}
				if p := sn.proto[op.ID]; p != tc.wantProto {
					t.Fatalf("op %d reached the server over HTTP/%d, want HTTP/%d", op.ID, p, tc.wantProto)
				}
				if tc.heldBack && sn.ready[op.ID].Before(op.Invoke) {
					t.Fatalf("op %d was complete at the server %v before its release", op.ID, op.Invoke.Sub(sn.ready[op.ID]))
				}
			}
			t.Logf("%s: release spread p50 %v, max %v, first %v", m.Sync, m.ReleaseSpreadP50, m.ReleaseSpreadMax, m.ReleaseSpreadFirst)
		})
	}
}

// TestSyncChoice: single-packet on an HTTP/1.1-only target is an error
// before any request unless a fallback is named; the fallback is noted.
func TestSyncChoice(t *testing.T) {
	for _, tc := range []struct {
		name, sync, fallback string
		h2c                  bool
		wantSync, wantErr    string
		wantNote             string
	}{
		{name: "single-packet on HTTP/1.1", sync: "single-packet", wantErr: "single-packet needs HTTP/2"},
		{name: "fallback to last-byte", sync: "single-packet", fallback: "last-byte", wantSync: "last-byte", wantNote: "fell back to last-byte"},
		{name: "fallback to barrier", sync: "single-packet", fallback: "barrier", wantSync: "barrier", wantNote: "fell back to barrier"},
		{name: "auto on HTTP/1.1 notes why", wantSync: "last-byte", wantNote: "HTTP/1.1 only"},
		{name: "single-packet on HTTP/2", sync: "single-packet", fallback: "last-byte", h2c: true, wantSync: "single-packet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, sn := startServer(t, tc.h2c, nil)
			ms, _, err := attackOps(t, base, profiles.Operation{
				Name: "x", Request: profiles.Request{Method: "POST", URL: "/"},
				Burst: &profiles.Burst{Copies: 4, Sync: tc.sync, Fallback: tc.fallback}, Bursts: 1,
				Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1,
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if len(sn.ready) != 0 {
					t.Fatalf("%d requests reached the server before the error", len(sn.ready))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ms[0].Sync != tc.wantSync || !strings.Contains(ms[0].SyncNote, tc.wantNote) {
				t.Fatalf("sync %q note %q; want %q and a note with %q", ms[0].Sync, ms[0].SyncNote, tc.wantSync, tc.wantNote)
			}
		})
	}
}

// TestPacingCountsLikeVegeta: an operation sends exactly rate × duration
// iterations, whatever path it takes, as vegeta's own attack loop does.
func TestPacingCountsLikeVegeta(t *testing.T) {
	base, _ := startServer(t, false, nil)
	req := profiles.Request{Method: "POST", URL: "/"}
	for _, tc := range []struct {
		name     string
		op       profiles.Operation
		wantOps  int
		wantBurs int
	}{
		{"2/s for 1s, bursts of 3", profiles.Operation{Burst: &profiles.Burst{Copies: 3}, Rate: profiles.Rate{Freq: 2, Per: time.Second}}, 6, 2},
		{"1/s for 1s, bursts of 3", profiles.Operation{Burst: &profiles.Burst{Copies: 3}, Rate: profiles.Rate{Freq: 1, Per: time.Second}}, 3, 1},
		{"5/s for 1s, retried requests", profiles.Operation{Retry: profiles.Retry{Max: 1}, Rate: profiles.Rate{Freq: 5, Per: time.Second}}, 5, 0},
		{"5/s for 1s, vegeta", profiles.Operation{Rate: profiles.Rate{Freq: 5, Per: time.Second}}, 5, 0},
		{"requests rounds up to whole bursts", profiles.Operation{Burst: &profiles.Burst{Copies: 4}, Requests: 5, Rate: profiles.Rate{Freq: 20, Per: time.Second}}, 8, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := tc.op
			op.Name, op.Request, op.Duration, op.Workers = "x", req, profiles.Duration(time.Second), 2
			ms, hist, err := attackOps(t, base, op)
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != tc.wantOps || ms[0].Bursts != tc.wantBurs {
				t.Fatalf("%d ops in %d bursts, want %d in %d", len(hist), ms[0].Bursts, tc.wantOps, tc.wantBurs)
			}
		})
	}
}

// TestMixedBurst: a burst of other operations releases their requests
// together, interleaved; each is recorded under its own name with its own
// outcome rules, and the member operations do not run on their own.
func TestMixedBurst(t *testing.T) {
	base, sn := startServer(t, false, func(r *http.Request) int {
		if r.Method == http.MethodPut {
			return http.StatusConflict
		}
		return http.StatusOK
	})
	ms, hist, err := attackOps(t, base,
		profiles.Operation{Name: "race", Burst: &profiles.Burst{Copies: 3, Of: []string{"get", "put"}}, Bursts: 2, Keys: profiles.Keys{List: []string{"a", "b"}},
			Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1},
		profiles.Operation{Name: "get", Request: profiles.Request{Method: "GET", URL: "/kv/{{key}}/{{burst}}"}},
		profiles.Operation{Name: "put", Request: profiles.Request{Method: "PUT", URL: "/kv/{{key}}/{{burst}}", Body: `{"v":"{{uuid}}-{{copy}}"}`},
			Outcome: profiles.OutcomeRules{OK: []string{"2xx"}, Fail: []string{"409"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Op != "race" || ms[0].Bursts != 2 {
		t.Fatalf("metrics %+v: want one row, race, 2 bursts", ms)
	}
	count := map[string]int{}
	keyOf := map[string]string{}
	for _, op := range hist {
		count[op.Op+"/"+op.Values["burst"]+"/"+string(op.Outcome)]++
		if op.Key != "a" && op.Key != "b" || op.Op == "put" && op.Values["uuid"] == "" {
			t.Fatalf("op %+v: want a key from the list and, for a put, its uuid", op)
		}
		if k, ok := keyOf[op.Values["burst"]]; ok && k != op.Key {
			t.Fatalf("burst %s spans keys %s and %s", op.Values["burst"], k, op.Key)
		}
		keyOf[op.Values["burst"]] = op.Key
	}
	want := map[string]int{"get/0/ok": 3, "put/0/fail": 3, "get/1/ok": 3, "put/1/fail": 3}
	for k, n := range want {
		if count[k] != n {
			t.Fatalf("ops by name/burst/outcome %v, want %v", count, want)
		}
	}
	if len(sn.ready) != 12 {
		t.Fatalf("server saw %d requests, want 12", len(sn.ready))
	}
}

// TestBurstRetriesUnknown: a copy whose outcome is unknown is resent alone,
// as one logical operation with the first attempt.
func TestBurstRetriesUnknown(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	base, _ := startServer(t, false, func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		k := r.Header.Get("X-Copy")
		tries[k]++
		if tries[k] == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	_, hist, err := attackOps(t, base, profiles.Operation{
		Name: "x", Request: profiles.Request{Method: "POST", URL: "/", Headers: map[string]string{"X-Copy": "{{copy}}"}},
		Burst: &profiles.Burst{Copies: 4}, Bursts: 1, Retry: profiles.Retry{Max: 2, Backoff: profiles.Duration(time.Millisecond)},
		Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 8 {
		t.Fatalf("%d ops, want 4 unknown + 4 ok retries", len(hist))
	}
	logical := map[uint64][]history.Op{}
	for _, op := range hist {
		logical[op.Logical] = append(logical[op.Logical], op)
	}
	for l, ops := range logical {
		if len(ops) != 2 || ops[0].Outcome != history.Unknown || ops[0].Attempt != 1 || ops[1].Outcome != history.OK || ops[1].Attempt != 2 || ops[0].ID != l {
			t.Fatalf("logical op %d: %+v", l, ops)
		}
	}
}

// TestBurstToClosedPort: a target that refuses connections is an error
// before the first burst, not a history of failures.
func TestBurstToClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = attackOps(t, "http://"+addr, profiles.Operation{
		Name: "x", Request: profiles.Request{Method: "POST", URL: "/"}, Burst: &profiles.Burst{Copies: 3, Sync: "last-byte"}, Bursts: 1,
		Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second),
	})
	if err == nil || !strings.Contains(err.Error(), "last-byte") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want a last-byte connection refused", err)
	}
}

// TestFlowBurst: a burst of a flow runs the steps before the last once per
// burst, then releases copies of the last step carrying their captures.
func TestFlowBurst(t *testing.T) {
	base, sn := startServer(t, false, nil)
	ms, hist, err := attackOps(t, base, profiles.Operation{
		Name: "edit", Burst: &profiles.Burst{Copies: 5, Sync: "last-byte"}, Bursts: 2,
		Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1,
		Flow: []profiles.Step{
			{Name: "read", Request: profiles.Request{Method: "GET", URL: "/docs/1"}, Capture: map[string]string{"ok": "ok"}},
			{Name: "save", Request: profiles.Request{Method: "PUT", URL: "/docs/1?ok={{ok}}&copy={{copy}}"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, op := range hist {
		count[op.Op]++
		if op.Op == "edit.save" && op.Values["ok"] != "true" {
			t.Fatalf("save %+v does not carry the read's capture", op)
		}
	}
	if count["edit.read"] != 2 || count["edit.save"] != 10 || ms[0].Bursts != 2 || len(sn.ready) != 12 {
		t.Fatalf("ops %v, %d bursts, server saw %d; want 2 reads, 10 saves, 2 bursts, 12", count, ms[0].Bursts, len(sn.ready))
	}
}

// TestReleaseOverTLS: over https, single-packet is chosen by ALPN and
// last-byte holds back the final bytes of TLS records alike.
func TestReleaseOverTLS(t *testing.T) {
	var mu sync.Mutex
	protos := map[int]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		protos[r.ProtoMajor]++
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, tc := range []struct{ sync, want string }{{"", "single-packet"}, {"last-byte", "last-byte"}} {
		t.Run(tc.want, func(t *testing.T) {
			clear(protos)
			specs, err := NewSpecs([]profiles.Operation{{Name: "x", Request: profiles.Request{Method: "POST", URL: "/", Body: `{"a":1}`},
				Burst: &profiles.Burst{Copies: 5, Sync: tc.sync}, Bursts: 2, Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second)}})
			if err != nil {
				t.Fatal(err)
			}
			hw := history.NewWriter(io.Discard)
			ms, err := Run(context.Background(), Options{BaseURL: srv.URL, History: hw, Rand: rand.New(rand.NewPCG(1, 1)), TLS: &tls.Config{RootCAs: roots}}, specs)
			if err != nil {
				t.Fatal(err)
			}
			wantProto := map[string]int{"single-packet": 2, "last-byte": 1}[tc.want]
			if ms[0].Sync != tc.want || ms[0].OK != 10 || protos[wantProto] != 10 {
				t.Fatalf("sync %q, %d ok, protocols %v; want %s, 10 ok over HTTP/%d", ms[0].Sync, ms[0].OK, protos, tc.want, wantProto)
			}
		})
	}
}

// TestMixedBurstBodies: a single-packet burst that mixes requests with and
// without a body opens its streams in rising id order on the wire.
func TestMixedBurstBodies(t *testing.T) {
	base, sn := startServer(t, true, nil)
	ms, hist, err := attackOps(t, base,
		profiles.Operation{Name: "race", Burst: &profiles.Burst{Copies: 5, Sync: "single-packet", Of: []string{"get", "put"}}, Bursts: 3,
			Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1},
		profiles.Operation{Name: "get", Request: profiles.Request{Method: "GET", URL: "/kv/{{burst}}"}},
		profiles.Operation{Name: "put", Request: profiles.Request{Method: "PUT", URL: "/kv/{{burst}}", Body: `{"v":{{copy}}}`}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].OK != 30 || len(hist) != 30 || len(sn.ready) != 30 {
		t.Fatalf("%d ok of %d ops, server saw %d; want 30 (errors %v)", ms[0].OK, len(hist), len(sn.ready), ms[0].Errors)
	}
	for _, op := range hist {
		if sn.proto[op.ID] != 2 {
			t.Fatalf("op %d over HTTP/%d", op.ID, sn.proto[op.ID])
		}
	}
}

// TestBurstKeepAlive: with keepalive (the default) a held-back mode keeps
// its connections for the next burst; with keepalive: false every burst
// opens its own, so a fault's per-connection toxicity applies per copy.
func TestBurstKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		sync      string
		keepAlive bool
		wantConns int64
	}{
		{"last-byte", true, 4}, {"last-byte", false, 12},
		// single-packet: one more, the HTTP/2 probe before the attack.
		{"single-packet", true, 2}, {"single-packet", false, 4},
	} {
		t.Run(fmt.Sprintf("%s keepalive %v", tc.sync, tc.keepAlive), func(t *testing.T) {
			var conns atomic.Int64
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }),
				ConnState: func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}}
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetHTTP1(true)
			srv.Protocols.SetUnencryptedHTTP2(true)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			ka := tc.keepAlive
			_, hist, err := attackOps(t, "http://"+ln.Addr().String(), profiles.Operation{
				Name: "x", Request: profiles.Request{Method: "POST", URL: "/"}, KeepAlive: &ka,
				Burst: &profiles.Burst{Copies: 4, Sync: tc.sync}, Bursts: 3,
				Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1, MaxWorkers: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 12 || conns.Load() != tc.wantConns {
				t.Fatalf("%d ops over %d connections, want 12 over %d", len(hist), conns.Load(), tc.wantConns)
			}
		})
	}
}

// TestCapturedSecretsRedacted: a flow that logs in captures a token and
// sends it on; the history keeps neither the token nor its rendering.
func TestCapturedSecretsRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			io.WriteString(w, `{"session_token": "tok-7f3a9c", "user": 5}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok-7f3a9c" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	_, hist, err := attackOps(t, srv.URL, profiles.Operation{
		Name: "buy", Requests: 3, Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1,
		Flow: []profiles.Step{
			{Name: "login", Request: profiles.Request{Method: "POST", URL: "/login"}, Capture: map[string]string{"session_token": "session_token", "user": "user"}},
			{Name: "pay", Request: profiles.Request{Method: "POST", URL: "/pay", Headers: map[string]string{"Authorization": "Bearer {{session_token}}"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, op := range hist {
		if op.Outcome != history.OK {
			t.Fatalf("op %+v not ok: the token was not sent on", op)
		}
		fmt.Fprintf(&b, "%v %v\n", op.Captures, op.Values)
	}
	if strings.Contains(b.String(), "tok-7f3a9c") || !strings.Contains(b.String(), "REDACTED") || !strings.Contains(b.String(), "user:5") {
		t.Fatalf("history values and captures:\n%s", b.String())
	}
}
