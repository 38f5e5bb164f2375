package demo

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestIncrementRace fires 200 increments of counter 1 from 64 clients at once
// on each database in each mode: safe must count every one, racy must lose
// some (that is what the demo is for).
func TestIncrementRace(t *testing.T) {
	const total, workers = 200, 64
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serveBurst(t, b, mode, 2*time.Millisecond)
				exec(t, s, `DELETE FROM counters`)
				exec(t, s, `INSERT INTO counters (id, value) VALUES (1, 0)`)

				warmClient(t, srv, workers)
				began := time.Now()
				rs := burst(total, workers, func(int) response {
					return call(http.MethodPost, srv.URL+"/counters/1/increment", nil, "")
				})
				elapsed := time.Since(began)

				// Neither mode may fail a request: SQLITE_BUSY must wait,
				// not surface as a 500.
				var values []int64
				for _, r := range rs {
					if r.err != nil || r.status != http.StatusOK {
						t.Fatalf("increment: status %d, err %v, body %s (all: %v)", r.status, r.err, r.body, statusCounts(rs))
					}
					values = append(values, decode[counterBody](t, r).Value)
				}
				final := decode[counterBody](t, mustCall(t, http.MethodGet, srv.URL+"/counters/1", nil, "")).Value
				if got := count(t, s, `SELECT value FROM counters WHERE id = 1`); got != final {
					t.Fatalf("GET /counters/1 = %d, database has %d", final, got)
				}
				t.Logf("%s/%s: %d acknowledged increments -> value %d (lost %d) in %v",
					b.driver, mode, total, final, total-final, elapsed.Round(time.Millisecond))

				switch mode {
				case modeSafe:
					if final != total {
						t.Fatalf("safe: final value %d, want exactly %d", final, total)
					}
					// Every increment saw its own new value: 1..200, once each.
					slices.Sort(values)
					for i, v := range values {
						if v != int64(i+1) {
							t.Fatalf("safe: returned values are not 1..%d: position %d has %d", total, i, v)
						}
					}
				case modeRacy:
					if final >= total {
						t.Fatalf("racy: final value %d, want < %d (lost updates)", final, total)
					}
				}
			})
		}
	}
}

// TestCounterNotFound: reading or incrementing a missing counter is a 404
// in both modes, and a non-numeric id is a 400.
func TestCounterNotFound(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				for _, tc := range []struct {
					method, path string
					want         int
				}{
					{http.MethodGet, "/counters/999", http.StatusNotFound},
					{http.MethodPost, "/counters/999/increment", http.StatusNotFound},
					{http.MethodGet, "/counters/abc", http.StatusBadRequest},
					{http.MethodPost, "/counters/abc/increment", http.StatusBadRequest},
				} {
					r := mustCall(t, tc.method, srv.URL+tc.path, nil, "")
					if r.status != tc.want || r.ctype != "application/json" {
						t.Errorf("%s %s = %d %q %s, want %d application/json", tc.method, tc.path, r.status, r.ctype, r.body, tc.want)
					}
					if e := decode[errorBody](t, r); e.Error == "" {
						t.Errorf("%s %s: empty error message", tc.method, tc.path)
					}
				}
				if n := count(t, s, `SELECT COUNT(*) FROM counters WHERE id = 999`); n != 0 {
					t.Errorf("increment of a missing counter created it")
				}
			})
		}
	}
}

// TestCounterSeededAndRead: Open seeds counter 1 at 0, and GET reads it.
func TestCounterSeededAndRead(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.driver, func(t *testing.T) {
			t.Parallel()
			_, srv := serve(t, b, modeSafe, 0)
			got := decode[counterBody](t, mustCall(t, http.MethodGet, srv.URL+"/counters/1", nil, ""))
			if got != (counterBody{ID: 1, Value: 0}) {
				t.Fatalf("GET /counters/1 = %+v, want {1 0}", got)
			}
			r := mustCall(t, http.MethodPost, srv.URL+"/counters/1/increment", nil, "")
			if got := decode[counterBody](t, r); r.status != http.StatusOK || got.Value != 1 {
				t.Fatalf("increment = %d %s, want 200 value 1", r.status, r.body)
			}
		})
	}
}

// TestDatabaseErrorIs500: a database error (here: the table is gone) is a
// JSON 500, never a panic or a hang, in both modes.
func TestDatabaseErrorIs500(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				exec(t, s, `DROP TABLE counters`)
				exec(t, s, `DROP TABLE orders`)
				for _, tc := range []struct {
					method, path string
					header       map[string]string
				}{
					{http.MethodPost, "/counters/1/increment", nil},
					{http.MethodGet, "/counters/1", nil},
					{http.MethodPost, "/orders", map[string]string{idempotencyHeader: "k"}},
					{http.MethodGet, "/orders?key=k", nil},
				} {
					r := mustCall(t, tc.method, srv.URL+tc.path, tc.header, "")
					e := decode[errorBody](t, r)
					if r.status != http.StatusInternalServerError || e.Error == "" {
						t.Errorf("%s %s = %d %s, want 500 with an error", tc.method, tc.path, r.status, r.body)
					}
				}
			})
		}
	}
}
