package demo

import (
	"path/filepath"
	"testing"
	"time"
)

// TestSlowdown holds every response back Slowdown × its handling time: with
// a 30 ms think time, slowdown 1 makes an increment take at least 60 ms, and
// the increment still takes effect. Only lower bounds are asserted (a
// loaded machine makes requests slower, never faster).
func TestSlowdown(t *testing.T) {
	const think = 30 * time.Millisecond
	for _, tc := range []struct {
		name     string
		slowdown float64
		atLeast  time.Duration
	}{
		{"none", 0, think},
		{"doubled", 1, 2 * think},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := serveDSN(t, Config{Mode: modeRacy, Driver: driverSQLite, DSN: filepath.Join(t.TempDir(), "demo.db"), Think: think, Slowdown: tc.slowdown, MaxConns: 2})
			before := count(t, s, "SELECT value FROM counters WHERE id = 1")
			start := time.Now()
			r := call("POST", srv.URL+"/counters/1/increment", nil, "")
			took := time.Since(start)
			if r.status != 200 {
				t.Fatalf("increment: %d %s", r.status, r.body)
			}
			if took < tc.atLeast {
				t.Fatalf("increment took %v, want at least %v (think %v, slowdown %v)", took, tc.atLeast, think, tc.slowdown)
			}
			if got := count(t, s, "SELECT value FROM counters WHERE id = 1"); got != before+1 {
				t.Fatalf("counter = %d after one increment from %d", got, before)
			}
		})
	}
	if err := (Config{Mode: modeSafe, Driver: driverSQLite, DSN: "x.db", Slowdown: -0.1}).Validate(); err == nil {
		t.Fatal("a negative slowdown validated")
	}
}
