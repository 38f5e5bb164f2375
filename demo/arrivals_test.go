package demo

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestArrivals: requests carrying X-Collide-Burst are logged by their
// X-Collide-Op, whatever their route and answer; others are not; the log
// reads the same in-process and over HTTP, and DELETE empties it.
func TestArrivals(t *testing.T) {
	t.Parallel()
	s, srv := serve(t, backends[0], modeSafe, 0)
	burstHdr := func(op string) map[string]string {
		return map[string]string{burstHeader: "3", opHeader: op}
	}
	before := time.Now()
	for _, tc := range []struct {
		path   string
		header map[string]string
		want   int
	}{
		{"/healthz", burstHdr("1"), http.StatusOK},
		{"/nope", burstHdr("2"), http.StatusNotFound},                                 // logged before routing
		{"/resources", burstHdr("18446744073709551615"), http.StatusMethodNotAllowed}, // max uint64
		{"/healthz", map[string]string{opHeader: "4"}, http.StatusOK},                 // no burst header: not logged
		{"/healthz", burstHdr("-5"), http.StatusOK},                                   // not a uint64: not logged
		{"/healthz", burstHdr(""), http.StatusOK},
		{"/healthz", map[string]string{burstHeader: "0"}, http.StatusOK},
	} {
		r := mustCall(t, http.MethodGet, srv.URL+tc.path, tc.header, "")
		if r.status != tc.want {
			t.Fatalf("GET %s = %d, want %d", tc.path, r.status, tc.want)
		}
	}
	time.Sleep(time.Millisecond)
	first := s.Arrivals()[1]
	mustCall(t, http.MethodGet, srv.URL+"/healthz", burstHdr("1"), "") // a repeat keeps the first arrival
	after := time.Now()

	got := s.Arrivals()
	if len(got) != 3 {
		t.Fatalf("Arrivals() = %v, want ops 1, 2 and max uint64", got)
	}
	for _, op := range []uint64{1, 2, 18446744073709551615} {
		at, ok := got[op]
		if !ok || at.Before(before) || at.After(after) {
			t.Fatalf("op %d arrived at %v (logged %v), want between %v and %v", op, at, ok, before, after)
		}
	}
	if !got[1].Equal(first) || !got[1].Before(got[2]) {
		t.Fatalf("op 1 at %v (first seen %v), op 2 at %v: want the first arrival, in order", got[1], first, got[2])
	}
	got[7] = time.Time{} // a copy
	if _, ok := s.Arrivals()[7]; ok {
		t.Fatalf("Arrivals() returned the log itself, not a copy")
	}

	r := mustCall(t, http.MethodGet, srv.URL+"/_collide/arrivals", nil, "")
	b := decode[struct {
		Arrivals map[string]string `json:"arrivals"`
		Dropped  *int64            `json:"dropped"`
	}](t, r)
	if r.status != http.StatusOK || len(b.Arrivals) != 3 || b.Dropped == nil || *b.Dropped != 0 {
		t.Fatalf("GET /_collide/arrivals = %d %s", r.status, r.body)
	}
	for op, ts := range b.Arrivals {
		id, err := strconv.ParseUint(op, 10, 64)
		if err != nil {
			t.Fatalf("op id %q: %v", op, err)
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !at.Equal(got[id]) || at.Location() != time.UTC {
			t.Fatalf("op %s at %q (%v), in-process %v: want the same instant in UTC", op, ts, err, got[id])
		}
	}

	r = mustCall(t, http.MethodDelete, srv.URL+"/_collide/arrivals", nil, "")
	if r.status != http.StatusOK || string(r.body) != `{"cleared":3}`+"\n" {
		t.Fatalf("DELETE /_collide/arrivals = %d %s", r.status, r.body)
	}
	if got := s.Arrivals(); len(got) != 0 {
		t.Fatalf("after DELETE: %v", got)
	}

	// Concurrent burst copies are all logged.
	const copies = 30
	burst(copies, copies, func(i int) response {
		return call(http.MethodGet, srv.URL+"/healthz", burstHdr(strconv.Itoa(100+i)), "")
	})
	if got := s.Arrivals(); len(got) != copies {
		t.Fatalf("%d of %d concurrent copies logged", len(got), copies)
	}
}

// TestArrivalsBounded: the log keeps at most maxArrivals ops and counts
// the rest as dropped; ops already logged are not dropped.
func TestArrivalsBounded(t *testing.T) {
	t.Parallel()
	var l arrivalLog
	now := time.Now()
	for i := range maxArrivals + 10 {
		l.record(strconv.Itoa(i), now)
	}
	l.record("0", now)
	m, dropped := l.snapshot()
	if len(m) != maxArrivals || dropped != 10 {
		t.Fatalf("%d logged, %d dropped; want %d and 10", len(m), dropped, maxArrivals)
	}
	if _, ok := m[maxArrivals]; ok {
		t.Fatalf("op %d logged past the bound", maxArrivals)
	}
	if n := l.reset(); n != maxArrivals {
		t.Fatalf("reset cleared %d", n)
	}
	l.record(fmt.Sprint(maxArrivals), now)
	if m, dropped := l.snapshot(); len(m) != 1 || dropped != 0 {
		t.Fatalf("after reset: %d logged, %d dropped", len(m), dropped)
	}
}

// BenchmarkArrivalsUnmarked is the arrival log's cost for a request
// without X-Collide-Burst: the middleware around a handler doing nothing.
func BenchmarkArrivalsUnmarked(b *testing.B) {
	s := &Service{}
	h := s.recordArrivals(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req, _ := http.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("Authorization", "Bearer x")
	for b.Loop() {
		h.ServeHTTP(nil, req)
	}
}
