package demo

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestDoubleSubmit sends 20 copies of one create request (same key) at once:
// safe must store exactly one order and answer every copy with its id (or
// 409), racy must store duplicates. Think is 200ms, not the usual 2ms:
// under -race on a busy 2-core machine the 20 "simultaneous" arrivals spread
// over up to ~50ms, and a copy that checks after the first insert committed
// is a (correct) replay; with 2ms the racy case sometimes stored only one
// order. Without -race, 2ms already gives 20 orders out of 20 copies.
func TestDoubleSubmit(t *testing.T) {
	const copies = 20
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serveBurst(t, b, mode, 200*time.Millisecond)
				const key = "order-key-1"
				warmClient(t, srv, copies)
				hdr := map[string]string{idempotencyHeader: key, "Content-Type": "application/json"}
				rs := burst(copies, copies, func(int) response {
					return call(http.MethodPost, srv.URL+"/orders", hdr, `{"item":"book"}`)
				})
				rows := count(t, s, `SELECT COUNT(*) FROM orders WHERE idempotency_key = ?`, key)
				t.Logf("%s/%s: %d concurrent copies -> %d order rows, statuses %v", b.driver, mode, copies, rows, statusCounts(rs))

				ids := map[int64]bool{}
				for _, r := range rs {
					switch r.status {
					case http.StatusCreated, http.StatusOK:
						o := decode[orderBody](t, r)
						if o.IdempotencyKey != key || o.Replayed != (r.status == http.StatusOK) || o.ID <= 0 {
							t.Errorf("status %d with body %s", r.status, r.body)
						}
						ids[o.ID] = true
					case http.StatusConflict:
						if mode == modeRacy {
							t.Errorf("racy never answers 409: %s", r.body)
						}
						if e := decode[errorBody](t, r); e.Error != errInProgress {
							t.Errorf("409 body %s", r.body)
						}
					default:
						t.Fatalf("POST /orders: status %d, err %v, body %s", r.status, r.err, r.body)
					}
				}
				switch mode {
				case modeSafe:
					if rows != 1 {
						t.Fatalf("safe: %d orders for one key, want exactly 1", rows)
					}
					if len(ids) != 1 || statusCounts(rs)[http.StatusCreated] != 1 {
						t.Fatalf("safe: 2xx responses carry ids %v with %d creations, want one id created once", ids, statusCounts(rs)[http.StatusCreated])
					}
					if got := count(t, s, `SELECT order_id FROM idempotency_keys WHERE idempotency_keys.key = ?`, key); !ids[got] {
						t.Fatalf("safe: idempotency_keys.order_id = %d, responses said %v", got, ids)
					}
				case modeRacy:
					if rows <= 1 {
						t.Fatalf("racy: %d orders for one key, want duplicates (> 1)", rows)
					}
				}

				// A later, sequential copy is a replay of an existing order.
				r := mustCall(t, http.MethodPost, srv.URL+"/orders", hdr, `{"item":"book"}`)
				if o := decode[orderBody](t, r); r.status != http.StatusOK || !o.Replayed || !ids[o.ID] {
					t.Fatalf("replay = %d %s, want 200 replayed with one of %v", r.status, r.body, ids)
				}
			})
		}
	}
}

// TestSafeOrdersUnderLoad: 64 clients create orders for 32 keys, 8 copies
// each, at once. The safe path must never fail with a 5xx (on SQLite: lock
// contention waits out busy_timeout instead of surfacing SQLITE_BUSY) and
// must store exactly one order per key.
func TestSafeOrdersUnderLoad(t *testing.T) {
	const keys, copies, workers = 32, 8, 64
	for _, b := range backends {
		t.Run(b.driver, func(t *testing.T) {
			t.Parallel()
			s, srv := serveBurst(t, b, modeSafe, 2*time.Millisecond)
			warmClient(t, srv, workers)
			began := time.Now()
			rs := burst(keys*copies, workers, func(i int) response {
				key := fmt.Sprintf("load-%d", i%keys)
				return call(http.MethodPost, srv.URL+"/orders", map[string]string{idempotencyHeader: key}, "")
			})
			t.Logf("%s: %d requests over %d keys from %d clients in %v: statuses %v",
				b.driver, len(rs), keys, workers, time.Since(began).Round(time.Millisecond), statusCounts(rs))
			for _, r := range rs {
				if r.status != http.StatusCreated && r.status != http.StatusOK && r.status != http.StatusConflict {
					t.Fatalf("status %d, err %v, body %s", r.status, r.err, r.body)
				}
			}
			if got := statusCounts(rs)[http.StatusCreated]; got != keys {
				t.Errorf("%d creations, want %d (one per key)", got, keys)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM orders`); n != keys {
				t.Errorf("%d orders, want %d", n, keys)
			}
			if n := count(t, s, `SELECT COUNT(DISTINCT idempotency_key) FROM orders`); n != keys {
				t.Errorf("%d distinct keys in orders, want %d", n, keys)
			}
		})
	}
}

// TestOrdersBadRequests covers the 400s and the listing endpoint.
func TestOrdersBadRequests(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				for _, tc := range []struct {
					name   string
					method string
					path   string
					header map[string]string
					body   string
					want   int
				}{
					{"missing key", http.MethodPost, "/orders", nil, `{"item":"x"}`, http.StatusBadRequest},
					{"blank key", http.MethodPost, "/orders", map[string]string{idempotencyHeader: "  "}, "", http.StatusBadRequest},
					{"bad JSON", http.MethodPost, "/orders", map[string]string{idempotencyHeader: "k1"}, `{"item":`, http.StatusBadRequest},
					{"wrong type", http.MethodPost, "/orders", map[string]string{idempotencyHeader: "k1"}, `{"item":3}`, http.StatusBadRequest},
					{"list without key", http.MethodGet, "/orders", nil, "", http.StatusBadRequest},
				} {
					r := mustCall(t, tc.method, srv.URL+tc.path, tc.header, tc.body)
					if r.status != tc.want || r.ctype != "application/json" || decode[errorBody](t, r).Error == "" {
						t.Errorf("%s: %d %q %s, want %d with a JSON error", tc.name, r.status, r.ctype, r.body, tc.want)
					}
				}
				if n := count(t, s, `SELECT COUNT(*) FROM orders`); n != 0 {
					t.Fatalf("bad requests stored %d orders", n)
				}

				// An empty body is allowed; the listing shows what was stored.
				r := mustCall(t, http.MethodPost, srv.URL+"/orders", map[string]string{idempotencyHeader: "k 2/é"}, "")
				created := decode[orderBody](t, r)
				if r.status != http.StatusCreated || created.Replayed || created.IdempotencyKey != "k 2/é" {
					t.Fatalf("create = %d %s", r.status, r.body)
				}
				r = mustCall(t, http.MethodPost, srv.URL+"/orders", map[string]string{idempotencyHeader: "k3"}, `{"item":"pen"}`)
				if r.status != http.StatusCreated {
					t.Fatalf("create = %d %s", r.status, r.body)
				}
				l := decode[listBody](t, mustCall(t, http.MethodGet, srv.URL+"/orders?key=k3", nil, ""))
				if l.Key != "k3" || l.Count != 1 || len(l.Orders) != 1 || l.Orders[0].Item != "pen" || l.Orders[0].IdempotencyKey != "k3" {
					t.Fatalf("listing = %+v", l)
				}
				if age := time.Since(l.Orders[0].CreatedAt); age < -time.Minute || age > time.Minute {
					t.Errorf("created_at %v is not about now (UTC)", l.Orders[0].CreatedAt)
				}
				l = decode[listBody](t, mustCall(t, http.MethodGet, srv.URL+"/orders?key=none", nil, ""))
				if l.Count != 0 || l.Orders == nil {
					t.Fatalf("empty listing = %+v, want count 0 and orders []", l)
				}
			})
		}
	}
}

// TestSafeOrderInProgress: a key reserved without an order (its request is
// still running) is answered 409 and creates nothing.
func TestSafeOrderInProgress(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.driver, func(t *testing.T) {
			t.Parallel()
			s, srv := serve(t, b, modeSafe, 0)
			exec(t, s, `INSERT INTO idempotency_keys VALUES (?, NULL)`, "held")
			r := mustCall(t, http.MethodPost, srv.URL+"/orders", map[string]string{idempotencyHeader: "held"}, "")
			if e := decode[errorBody](t, r); r.status != http.StatusConflict || e.Error != errInProgress {
				t.Fatalf("= %d %s, want 409 %q", r.status, r.body, errInProgress)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM orders`); n != 0 {
				t.Fatalf("409 stored %d orders", n)
			}
		})
	}
}
