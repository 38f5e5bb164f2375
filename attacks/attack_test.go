package attacks

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

func TestClassify(t *testing.T) {
	s, err := NewSpec(profiles.Operation{Name: "x", Request: profiles.Request{Method: "POST", URL: "/"}, Requests: 1,
		Outcome: profiles.OutcomeRules{OK: []string{"2xx"}, Fail: []string{"409", "422"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		status int
		sent   bool
		want   history.Outcome
	}{
		{"refused before sending", 0, false, history.Fail},
		{"timeout after sending", 0, true, history.Unknown},
		{"created", 201, true, history.OK},
		{"conflict listed as fail", 409, true, history.Fail},
		{"not found is not listed", 404, true, history.Unknown},
		{"server error", 500, true, history.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Classify(tc.status, tc.sent); got != tc.want {
				t.Fatalf("Classify(%d, %v) = %s, want %s", tc.status, tc.sent, got, tc.want)
			}
		})
	}
}

func TestNewSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		op      profiles.Operation
		wantErr string
	}{
		{"absolute url", profiles.Operation{Request: profiles.Request{URL: "http://10.0.0.1/x"}, Requests: 1}, "request.url"},
		{"bad body placeholder", profiles.Operation{Request: profiles.Request{URL: "/", Body: "{{nope}}"}, Requests: 1}, "request.body"},
		{"bad header placeholder", profiles.Operation{Request: profiles.Request{URL: "/", Headers: map[string]string{"X-A": "{{"}}, Requests: 1}, "request.headers.X-A"},
		{"unbounded", profiles.Operation{Request: profiles.Request{URL: "/"}}, "duration"},
		{"bad outcome", profiles.Operation{Request: profiles.Request{URL: "/"}, Requests: 1, Outcome: profiles.OutcomeRules{OK: []string{"2yy"}}}, "outcome.ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSpec(tc.op)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
			}
		})
	}
}

// TestRunRecordsEveryRequest attacks a real HTTP server and checks that every
// request becomes exactly one op with the right outcome and unique values.
func TestRunRecordsEveryRequest(t *testing.T) {
	var mu sync.Mutex
	seenOps := map[string]bool{}
	seenBodies := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 512)
		n, _ := r.Body.Read(b)
		mu.Lock()
		seenOps[r.Header.Get(OpHeader)] = true
		seenBodies[string(b[:n])] = true
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/conflict"):
			w.WriteHeader(http.StatusConflict)
		case strings.HasPrefix(r.URL.Path, "/boom"):
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()

	mk := func(name, url string) *Spec {
		s, err := NewSpec(profiles.Operation{Name: name, Request: profiles.Request{Method: "POST", URL: url, Body: `{"id":"{{uuid}}","seq":{{seq}}}`},
			Rate: profiles.Rate{Freq: 500, Per: time.Second}, Duration: profiles.Duration(2 * time.Second), Requests: 60, Workers: 8})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	path := filepath.Join(t.TempDir(), "h.jsonl")
	hw, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Run(context.Background(), Options{BaseURL: srv.URL, History: hw, Rand: rand.New(rand.NewPCG(1, 2))},
		[]*Spec{mk("ok", "/ok/{{seq}}"), mk("conflict", "/conflict"), mk("boom", "/boom")})
	if err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]history.Counts{"ok": {OK: 60}, "conflict": {Fail: 60}, "boom": {Unknown: 60}}
	tally := hw.Tally()
	for name, c := range want {
		if got := tally.Of(name); got != c {
			t.Errorf("%s: counts %+v, want %+v", name, got, c)
		}
	}
	for _, m := range ms {
		if m.Requests != 60 {
			t.Errorf("%s: metrics requests %d, want 60", m.Op, m.Requests)
		}
	}
	ops, err := history.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint64]bool{}
	for _, op := range ops {
		if ids[op.ID] {
			t.Fatalf("op id %d recorded twice", op.ID)
		}
		ids[op.ID] = true
		if !op.Sent || op.Complete.Before(op.Invoke) {
			t.Fatalf("op %+v: want sent with complete ≥ invoke", op)
		}
	}
	if len(seenOps) != 180 || len(seenBodies) != 180 {
		t.Fatalf("server saw %d distinct op ids and %d distinct bodies, want 180 each", len(seenOps), len(seenBodies))
	}
}

// TestRunOutcomesWithoutResponse: a refused connection is fail (never sent);
// a request the server never answers in time is unknown (sent).
func TestRunOutcomesWithoutResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer hang.Close()

	for _, tc := range []struct {
		name, base string
		want       history.Counts
		sent       bool
	}{
		{"refused", closed, history.Counts{Fail: 5}, false},
		{"timeout", hang.URL, history.Counts{Unknown: 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSpec(profiles.Operation{Name: "op", Request: profiles.Request{Method: "POST", URL: "/"},
				Rate: profiles.Rate{Freq: 100, Per: time.Second}, Duration: profiles.Duration(time.Second), Requests: 5,
				Workers: 5, Timeout: profiles.Duration(200 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "h.jsonl")
			hw, _ := history.Create(path)
			if _, err := Run(context.Background(), Options{BaseURL: tc.base, History: hw, Rand: rand.New(rand.NewPCG(1, 2))}, []*Spec{s}); err != nil {
				t.Fatal(err)
			}
			hw.Close()
			if got := hw.Tally().Of("op"); got != tc.want {
				t.Fatalf("counts %+v, want %+v", got, tc.want)
			}
			ops, _ := history.ReadAll(path)
			for _, op := range ops {
				if op.Sent != tc.sent || op.Error == "" {
					t.Fatalf("op %+v: want sent=%v and an error", op, tc.sent)
				}
			}
		})
	}
}

// TestRunStopsOnCancel: cancelling the context ends a long attack promptly.
func TestRunStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s, err := NewSpec(profiles.Operation{Name: "op", Request: profiles.Request{Method: "GET", URL: "/"},
		Rate: profiles.Rate{Freq: 50, Per: time.Second}, Duration: profiles.Duration(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	hw := history.NewWriter(&strings.Builder{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Run(ctx, Options{BaseURL: srv.URL, History: hw, Rand: rand.New(rand.NewPCG(1, 2))}, []*Spec{s}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("attack ran %v after cancel", took)
	}
	if n := hw.Len(); n == 0 || n > 100 {
		t.Fatalf("%d ops recorded, want a few (50/s for ~0.3s)", n)
	}
}

func BenchmarkClassify(b *testing.B) {
	s, err := NewSpec(profiles.Operation{Name: "x", Request: profiles.Request{URL: "/"}, Requests: 1})
	if err != nil {
		b.Fatal(err)
	}
	codes := []int{200, 201, 409, 500, 0}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = s.Classify(codes[i%len(codes)], true)
	}
}
