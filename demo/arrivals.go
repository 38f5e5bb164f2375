package demo

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Arrival recording: how tightly the copies of a burst reached the
// service. collide's attack engine marks every burst copy with the headers
// X-Collide-Burst (the burst index) and X-Collide-Op (the op id, a uint64).
// For such a request the outermost handler notes time.Now() before
// anything else (routing, the timeout, the handler), keyed by the op id;
// a request without X-Collide-Burst costs one header lookup. A missing or
// non-integer op id is not recorded.
//
// The log keeps the first arrival of each op id and at most maxArrivals
// of them; later ops are counted as dropped. In-process it is read with
// Service.Arrivals; over HTTP with GET /_collide/arrivals, and emptied
// with DELETE /_collide/arrivals (for a long-lived demo serving several
// runs).

// Headers of collide's burst copies.
const (
	burstHeader = "X-Collide-Burst"
	opHeader    = "X-Collide-Op"
)

// maxArrivals bounds the arrival log.
const maxArrivals = 100_000

// arrivalLog is the arrival log. The zero value is empty and ready.
type arrivalLog struct {
	mu      sync.Mutex
	m       map[uint64]time.Time
	dropped int64 // ops not recorded because the log was full
}

func (l *arrivalLog) record(op string, at time.Time) {
	id, err := strconv.ParseUint(op, 10, 64)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.m[id]; ok {
		return
	}
	if len(l.m) >= maxArrivals {
		l.dropped++
		return
	}
	if l.m == nil {
		l.m = make(map[uint64]time.Time)
	}
	l.m[id] = at
}

// snapshot returns a copy of the log and the number of dropped ops.
func (l *arrivalLog) snapshot() (map[uint64]time.Time, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[uint64]time.Time, len(l.m))
	for id, at := range l.m {
		m[id] = at
	}
	return m, l.dropped
}

// reset empties the log and returns how many arrivals it held.
func (l *arrivalLog) reset() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.m)
	l.m, l.dropped = nil, 0
	return n
}

// recordArrivals notes the arrival of every burst copy, then serves it.
func (s *Service) recordArrivals(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if burst := r.Header[burstHeader]; len(burst) > 0 {
			s.arrivals.record(r.Header.Get(opHeader), time.Now())
		}
		next.ServeHTTP(w, r)
	})
}

// Arrivals returns a copy of the arrival log: for every request that
// carried X-Collide-Burst and an integer X-Collide-Op, the time its
// handling began (with a monotonic clock reading), by op id; the first
// arrival of an op id counts, and at most 100 000 are kept.
func (s *Service) Arrivals() map[uint64]time.Time {
	m, _ := s.arrivals.snapshot()
	return m
}

// arrivalsBody is the response of GET /_collide/arrivals.
type arrivalsBody struct {
	Arrivals map[uint64]time.Time `json:"arrivals"` // op id: RFC 3339 time, UTC, nanoseconds
	Dropped  int64                `json:"dropped"`  // ops not recorded: the log was full
}

func (s *Service) handleGetArrivals(w http.ResponseWriter, _ *http.Request) {
	m, dropped := s.arrivals.snapshot()
	for id, at := range m {
		m[id] = at.UTC()
	}
	writeJSON(w, http.StatusOK, arrivalsBody{Arrivals: m, Dropped: dropped})
}

func (s *Service) handleResetArrivals(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Cleared int `json:"cleared"`
	}{s.arrivals.reset()})
}
