package demo

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCacheEndpoints walks GET and PUT /cache/{key} once, sequentially, in
// both modes: the wire format, the 400s, and that a write invalidates the
// cached entry (in both modes, without concurrency).
func TestCacheEndpoints(t *testing.T) {
	t.Parallel()
	steps := []struct {
		method, path, body string
		want               int
		wantBody           string
	}{
		{"GET", "/cache/a", "", 200, `{"key":"a","value":null}`},
		{"GET", "/cache/a", "", 200, `{"key":"a","value":null}`}, // cached absence
		{"PUT", "/cache/a", `{"value":3}`, 200, `{"key":"a","value":3}`},
		{"GET", "/cache/a", "", 200, `{"key":"a","value":3}`},
		{"GET", "/cache/a", "", 200, `{"key":"a","value":3}`}, // cached
		{"PUT", "/cache/a", `{"value":-4}`, 200, `{"key":"a","value":-4}`},
		{"GET", "/cache/a", "", 200, `{"key":"a","value":-4}`},
		{"GET", "/cache/b", "", 200, `{"key":"b","value":null}`},
		{"PUT", "/cache/a", `{}`, 400, ""},
		{"PUT", "/cache/a", `{"value":"x"}`, 400, ""},
		{"PUT", "/cache/a", `{"value":1,"x":2}`, 400, ""},
		{"PUT", "/cache/a", ``, 400, ""},
		{"GET", "/cache/a", "", 200, `{"key":"a","value":-4}`},
		{"GET", "/kv/a", "", 200, `{"key":"a","value":null}`}, // a table of its own
	}
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				_, srv := serve(t, b, mode, 0)
				for _, st := range steps {
					r := mustCall(t, st.method, srv.URL+st.path, nil, st.body)
					got := strings.TrimSuffix(string(r.body), "\n")
					if r.status != st.want || r.ctype != "application/json" || (st.wantBody != "" && got != st.wantBody) {
						t.Fatalf("%s %s %s = %d %q %s\nwant %d %s", st.method, st.path, st.body, r.status, r.ctype, got, st.want, st.wantBody)
					}
					if r.status >= 400 && decode[errorBody](t, r).Error == "" {
						t.Fatalf("%s %s: %d without an error message: %s", st.method, st.path, r.status, got)
					}
				}
			})
		}
	}
}

// Read-through cache concurrency: each round aims at a fresh key (nothing
// cached), releases cacheReaders GETs and cacheWriters PUTs of it together
// (no think time: the natural window between a GET's SELECT and its fill),
// then, once every PUT is acknowledged, reads the key again. That read must
// return what the database holds: the last committed write. In racy mode a
// GET that read the row before a PUT committed, and filled the cache after
// the PUT deleted the entry, leaves the old value cached: a stale read
// after an acknowledged write (the value of an earlier PUT of the round, or
// the key's absence from before it). Safe never serves one.
//
// A round hits the window only now and then (on the 2-core test machine
// 0.5–8% of rounds, depending on the database and -race), hence the many
// rounds; one costs about a millisecond (5 under -race).
const (
	cacheRounds  = 1000
	cacheReaders = 4
	cacheWriters = 2
)

func TestCacheStaleFill(t *testing.T) {
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serveBurst(t, b, mode, 0)
				warmClient(t, srv, cacheReaders+cacheWriters)
				stale, old := 0, 0
				var first string
				for round := range cacheRounds {
					key := fmt.Sprintf("r%d", round)
					url := srv.URL + "/cache/" + key
					rs := burst(cacheReaders+cacheWriters, cacheReaders+cacheWriters, func(i int) response {
						if i < cacheReaders {
							return call(http.MethodGet, url, nil, "")
						}
						return call(http.MethodPut, url, nil, fmt.Sprintf(`{"value":%d}`, i))
					})
					requireStatuses(t, rs, http.StatusOK)
					after := mustCall(t, http.MethodGet, url, nil, "")
					if after.status != http.StatusOK {
						t.Fatalf("GET %s after the burst = %d %s", url, after.status, after.body)
					}
					got := decode[kvBody](t, after).Value
					db := count(t, s, `SELECT value FROM cached_kv WHERE cached_kv.key = ?`, key)
					if got == nil || *got != db {
						stale++
						if got == nil {
							old++
						}
						if first == "" {
							first = fmt.Sprintf("round %d: the database holds %d, the read after every write was acknowledged returned %s", round, db, after.body)
						}
					}
				}
				t.Logf("%d rounds of %d GETs + %d PUTs of one key released together: %d (%.1f%%) left a stale value cached, %d of them the value from before the round",
					cacheRounds, cacheReaders, cacheWriters, stale, 100*float64(stale)/float64(cacheRounds), old)
				switch {
				case mode == modeSafe && stale > 0:
					t.Fatalf("safe: %d stale reads; first: %s", stale, first)
				case mode == modeRacy && stale == 0:
					t.Fatalf("racy: no stale read in %d rounds; want a GET's fill of the old row after a PUT's invalidation", cacheRounds)
				case stale > 0:
					t.Logf("first: %s", first)
				}
			})
		}
	}
}
