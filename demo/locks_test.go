package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRedisURL names the Redis server of the lock tests; .ci starts it.
const (
	envRedisURL     = "COLLIDE_TEST_REDIS_URL"
	defaultRedisURL = "redis://127.0.0.1:6379/0"
)

// testRedisURL returns the test Redis server's URL once it answers a ping.
// Outside CI an unreachable server skips the test, under CI (CI=true) it
// fails it. The lock tests use lock names of their own (random suffixes),
// so they share the database with other tests safely.
func testRedisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv(envRedisURL)
	if url == "" {
		url = defaultRedisURL
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envRedisURL, err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s unreachable under CI: %v", opt.Addr, err)
		}
		t.Skipf("skipping: Redis at %s unreachable (redis-server --daemonize yes --port 6379 --bind 127.0.0.1): %v", opt.Addr, err)
	}
	return url
}

// lockSetup is one lock backend under test.
type lockSetup struct {
	name    string // the backend the responses must name
	backend backend
	redis   bool
	lease   bool // the safe lock is a lease (expires by TTL after a crash)
}

var lockSetups = []lockSetup{
	{"sqlite", backends[0], false, true},
	{"postgres", backends[1], false, false},
	{"mysql", backends[2], false, false},
	{"redis", backends[0], true, true},
}

// lockEnv is a service whose locks endpoint is under test.
type lockEnv struct {
	s     *Service
	srv   *httptest.Server
	mode  string
	setup lockSetup
	rdb   *redis.Client // for the test's own inspection; nil without Redis
}

// lockScenario is one test of the locks endpoint against one backend in
// one mode.
type lockScenario struct {
	name string
	run  func(t *testing.T, e *lockEnv)
}

var lockScenarios = []lockScenario{
	{"mutual-exclusion", runLockMutualExclusion},
	{"crash", runLockCrash},
	{"lease-renewal", runLockLeaseRenewal},
	{"lost", runLockLost},
}

// TestLocks runs every lock scenario on every backend in both modes. The
// scenarios of one backend and mode share a service (Think 50ms) and run in
// parallel, on lock names of their own.
func TestLocks(t *testing.T) {
	for _, ls := range lockSetups {
		for _, mode := range modes {
			t.Run(ls.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				cfg := Config{Mode: mode, Driver: ls.backend.driver, DSN: ls.backend.dsn(t), Think: classThink, MaxConns: classConns}
				e := &lockEnv{mode: mode, setup: ls}
				if ls.redis {
					cfg.RedisURL = testRedisURL(t)
					opt, _ := redis.ParseURL(cfg.RedisURL)
					e.rdb = redis.NewClient(opt)
					t.Cleanup(func() { e.rdb.Close() })
				}
				e.s, e.srv = serveDSN(t, cfg)
				if e.s.locks.name() != ls.name {
					t.Fatalf("backend %q, want %q", e.s.locks.name(), ls.name)
				}
				for _, sc := range lockScenarios {
					t.Run(sc.name, func(t *testing.T) {
						t.Parallel()
						sc.run(t, e)
					})
				}
			})
		}
	}
}

// lockName returns a lock name no other test uses.
func lockName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, rand.Uint64())
}

func (e *lockEnv) run(name, body string) response {
	return call(http.MethodPost, e.srv.URL+"/locks/"+name+"/run", map[string]string{"Content-Type": "application/json"}, body)
}

// hold is one lock hold read back from lock_log.
type hold struct {
	holder             string
	acquired, released int64 // Unix µs; released 0 when NULL
	status             string
}

func (e *lockEnv) holds(t *testing.T, name string) []hold {
	t.Helper()
	rows, err := e.s.db.Query(e.s.dialect.q(
		`SELECT holder, acquired_us, COALESCE(released_us, 0), status, backend FROM lock_log WHERE name = ? ORDER BY acquired_us`), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var hs []hold
	for rows.Next() {
		var h hold
		var be string
		if err := rows.Scan(&h.holder, &h.acquired, &h.released, &h.status, &be); err != nil {
			t.Fatal(err)
		}
		if be != e.setup.name {
			t.Fatalf("lock_log backend %q, want %q", be, e.setup.name)
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return hs
}

// overlaps counts the pairs of released holds whose intervals intersect.
func overlaps(hs []hold) int {
	n := 0
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			a, b := hs[i], hs[j]
			if a.status == lockReleased && b.status == lockReleased && a.acquired < b.released && b.acquired < a.released {
				n++
			}
		}
	}
	return n
}

func parseStamp(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return ts
}

// runLockMutualExclusion: 10 requests for one lock at once, each holding it
// 1s. safe: never two holders at once (from the database's lock_log and
// from the responses), the others are refused with 423 without waiting for
// the hold to end; racy: two holders overlap.
func runLockMutualExclusion(t *testing.T, e *lockEnv) {
	const clients = 10
	name := lockName("mutex")
	began := time.Now()
	var mu sync.Mutex
	var refusedAt []time.Time // when each 423 reached the client
	rs := burst(clients, clients, func(int) response {
		r := e.run(name, `{"hold":"1s","ttl":"5s"}`)
		if r.status == http.StatusLocked {
			mu.Lock()
			refusedAt = append(refusedAt, time.Now())
			mu.Unlock()
		}
		return r
	})
	elapsed := time.Since(began)
	requireStatuses(t, rs, http.StatusOK, http.StatusLocked)
	var ok []lockRunBody
	var lastRelease time.Time
	for _, r := range rs {
		if r.status == http.StatusLocked {
			if decode[errorBody](t, r).Error != errLocked {
				t.Fatalf("423 body %s", r.body)
			}
			continue
		}
		b := decode[lockRunBody](t, r)
		if b.Name != name || b.Holder == "" || b.Backend != e.setup.name || b.Crashed || b.Attempts != 1 {
			t.Fatalf("200 body %s", r.body)
		}
		if d := parseStamp(t, b.ReleasedAt).Sub(parseStamp(t, b.AcquiredAt)); d < time.Second {
			t.Fatalf("held %v, want at least the 1s hold", d)
		}
		if rel := parseStamp(t, b.ReleasedAt); rel.After(lastRelease) {
			lastRelease = rel
		}
		ok = append(ok, b)
	}
	hs := e.holds(t, name)
	if len(hs) != len(ok) {
		t.Fatalf("lock_log has %d holds, %d requests answered 200", len(hs), len(ok))
	}
	for _, h := range hs {
		if h.status != lockReleased || h.released == 0 {
			t.Fatalf("hold %+v, want released", h)
		}
	}
	// The same check from the responses alone.
	var respOverlaps int
	for i := range ok {
		for j := i + 1; j < len(ok); j++ {
			a0, a1 := parseStamp(t, ok[i].AcquiredAt), parseStamp(t, ok[i].ReleasedAt)
			b0, b1 := parseStamp(t, ok[j].AcquiredAt), parseStamp(t, ok[j].ReleasedAt)
			if a0.Before(b1) && b0.Before(a1) {
				respOverlaps++
			}
		}
	}
	n := overlaps(hs)
	t.Logf("%s/%s: %d clients: %d holds, %d overlapping pairs (responses: %d), in %v",
		e.setup.name, e.mode, clients, len(ok), n, respOverlaps, elapsed.Round(time.Millisecond))
	if n != respOverlaps {
		t.Fatalf("lock_log shows %d overlapping pairs, the responses %d", n, respOverlaps)
	}
	switch e.mode {
	case modeSafe:
		if n != 0 || len(ok) == 0 {
			t.Fatalf("safe: %d holds with %d overlapping pairs; want at least one hold and no overlap", len(ok), n)
		}
		// Refusals do not wait for the hold: each reached the client
		// before the last hold was released (the demo runs in this
		// process: one clock).
		for _, at := range refusedAt {
			if !at.Before(lastRelease) {
				t.Fatalf("safe: a 423 arrived at %v, after the last release at %v: refusals must not wait", at, lastRelease)
			}
		}
	case modeRacy:
		if n == 0 {
			t.Fatalf("racy: %d holds, none overlapping; want two holders at once", len(ok))
		}
	}
}

// runLockCrash: a holder that crashes (returns without releasing) must not
// block the lock forever: a lease stays busy until its TTL runs out and
// not after; a PostgreSQL advisory lock is freed as soon as its connection
// closes.
func runLockCrash(t *testing.T, e *lockEnv) {
	const ttl = 400 * time.Millisecond
	name := lockName("crash")
	sent := time.Now() // the lease is taken after this: it lives at least until sent+ttl
	r := mustCall(t, http.MethodPost, e.srv.URL+"/locks/"+name+"/run", nil, `{"hold":"10ms","ttl":"400ms","crash":true}`)
	crashed := decode[lockRunBody](t, r)
	if r.status != http.StatusOK || !crashed.Crashed || crashed.ReleasedAt != "" {
		t.Fatalf("crash = %d %s", r.status, r.body)
	}
	crashedAt := parseStamp(t, crashed.AcquiredAt)

	lease := e.setup.lease || e.mode == modeRacy // racy: always the TTL
	holds := 2                                   // the crashed one and the next
	if lease {
		// Judged when the answer came while the lease surely lived; on a
		// machine too loaded for that, the lock_log stamps below still
		// show the lease was not taken before its TTL.
		r := e.run(name, `{"hold":"1ms"}`)
		switch {
		case time.Since(sent) >= ttl:
			t.Logf("the request right after the crash ended %v after it, past the %v TTL: not judged", time.Since(sent), ttl)
			if r.status == http.StatusOK {
				holds++
			}
		case r.status != http.StatusLocked:
			t.Fatalf("right after the crash: %d %s, want 423 until the TTL runs out", r.status, r.body)
		}
	}
	began := time.Now()
	r = e.run(name, `{"hold":"1ms","wait":"3s"}`)
	next := decode[lockRunBody](t, r)
	if r.status != http.StatusOK {
		t.Fatalf("after the crash, with wait 3s: %d %s", r.status, r.body)
	}
	gap := parseStamp(t, next.AcquiredAt).Sub(crashedAt)
	t.Logf("%s/%s: next holder acquired %v after the crashed one (ttl %v), waited %v over %d attempts",
		e.setup.name, e.mode, gap.Round(time.Millisecond), ttl, time.Since(began).Round(time.Millisecond), next.Attempts)
	// Never before the TTL; not forever, since the 200 above came within
	// its 3s wait (how soon after the TTL depends on the machine's load).
	if lease && gap < ttl-20*time.Millisecond {
		t.Fatalf("the lease was taken %v after the crash, before its %v TTL", gap, ttl)
	}
	hs := e.holds(t, name)
	if len(hs) != holds || hs[0].status != lockCrashed || hs[0].released != 0 || hs[len(hs)-1].status != lockReleased {
		t.Fatalf("lock_log %+v, want a crashed hold (released NULL) then %d released", hs, holds-1)
	}
}

// runLockLeaseRenewal: a hold longer than the TTL. safe: the lease is
// renewed while held, so a second client is refused; racy: the lease runs
// out mid-hold and a second client takes the lock, overlapping.
func runLockLeaseRenewal(t *testing.T, e *lockEnv) {
	name := lockName("renew")
	var first response
	var wg sync.WaitGroup
	// A TTL of 1 s, not 300 ms: the safe service renews its lease a few
	// times per TTL, and on a loaded CI machine a 300 ms lease once ran out
	// between two renewals (the service then rightly answered "lock lost").
	wg.Go(func() { first = e.run(name, `{"hold":"5s","ttl":"1s"}`) })
	e.waitHeld(t, name)
	// At least twice the TTL after the first acquired (a busy machine only
	// makes it later, well within the 5s hold): a lease not renewed has
	// run out by now.
	time.Sleep(2 * time.Second)
	second := e.run(name, `{"hold":"10ms","ttl":"1s"}`)
	wg.Wait()
	if first.status != http.StatusOK {
		t.Fatalf("first = %d %s", first.status, first.body)
	}
	t.Logf("%s/%s: second client during the first's 5s hold (ttl 1s): %d", e.setup.name, e.mode, second.status)
	switch e.mode {
	case modeSafe:
		if second.status != http.StatusLocked {
			t.Fatalf("safe: second = %d %s, want 423 (lease renewed)", second.status, second.body)
		}
	case modeRacy:
		if second.status != http.StatusOK || overlaps(e.holds(t, name)) != 1 {
			t.Fatalf("racy: second = %d %s, holds %+v; want it to overlap the first", second.status, second.body, e.holds(t, name))
		}
	}
}

// runLockLost: in safe mode, a holder whose lock was taken from it (the
// lease deleted, the connection killed) must not claim success: 500 and a
// "lost" hold in lock_log.
func runLockLost(t *testing.T, e *lockEnv) {
	if e.mode != modeSafe {
		t.Skip("racy never checks")
	}
	name := lockName("lost")
	var r response
	var wg sync.WaitGroup
	wg.Go(func() { r = e.run(name, `{"hold":"3s","ttl":"5s"}`) })
	e.waitHeld(t, name) // then taken from it, well within its 3s hold
	ctx := context.Background()
	switch {
	case e.rdb != nil:
		if err := e.rdb.Del(ctx, "lock:"+name).Err(); err != nil {
			t.Fatal(err)
		}
	case e.setup.name == driverPostgres:
		var n int64
		key := uint64(advisoryKey(name)) // a bigint key is (classid, objid) = (high, low) 32 bits, objsubid 1
		if err := e.s.db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = $1::bigint::oid AND objid = $2::bigint::oid
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			int64(key>>32), int64(key&0xffffffff)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("terminate the holder's connection: %d, %v", n, err)
		}
	case e.setup.name == driverMySQL:
		var id sql.NullInt64
		if err := e.s.db.QueryRow(`SELECT IS_USED_LOCK(?)`, e.s.locks.(*namedLocks).key(name)).Scan(&id); err != nil || !id.Valid {
			t.Fatalf("the holder's connection: %v, %v", id, err)
		}
		exec(t, e.s, fmt.Sprintf(`KILL CONNECTION %d`, id.Int64))
	default:
		exec(t, e.s, `DELETE FROM locks WHERE name = ?`, name)
	}
	wg.Wait()
	if e := decode[errorBody](t, r); r.status != http.StatusInternalServerError || !strings.HasPrefix(e.Error, errLockLost) {
		t.Fatalf("= %d %s, want 500 %q", r.status, r.body, errLockLost)
	}
	if hs := e.holds(t, name); len(hs) != 1 || hs[0].status != lockLost {
		t.Fatalf("lock_log %+v, want one lost hold", hs)
	}
	// The lock is usable again.
	if r := e.run(name, `{"hold":"1ms","wait":"2s"}`); r.status != http.StatusOK {
		t.Fatalf("after the loss: %d %s", r.status, r.body)
	}
}

// waitHeld polls the lock's backend until name is held (up to 10s), so that
// what a test does next happens during the hold, whatever the machine's load.
func (e *lockEnv) waitHeld(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int64
		var err error
		switch {
		case e.rdb != nil:
			n, err = e.rdb.Exists(ctx, "lock:"+name).Result()
		case e.setup.name == driverPostgres && e.mode == modeSafe:
			key := uint64(advisoryKey(name))
			err = e.s.db.QueryRow(`SELECT COUNT(*) FROM pg_locks
				WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = $1::bigint::oid AND objid = $2::bigint::oid
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
				int64(key>>32), int64(key&0xffffffff)).Scan(&n)
		case e.setup.name == driverMySQL && e.mode == modeSafe:
			err = e.s.db.QueryRow(`SELECT IS_USED_LOCK(?) IS NOT NULL`, e.s.locks.(*namedLocks).key(name)).Scan(&n)
		default:
			err = e.s.db.QueryRow(e.s.dialect.q(`SELECT COUNT(*) FROM locks WHERE name = ?`), name).Scan(&n)
		}
		if err != nil {
			t.Fatalf("is lock %s held: %v", name, err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock %s not held after 10s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLockBadRequests: durations out of range or malformed are 400s, an
// empty body takes the defaults, and a bad Redis URL is refused by Validate.
func TestLockBadRequests(t *testing.T) {
	t.Parallel()
	_, srv := serve(t, backends[0], modeSafe, 0)
	for _, tc := range []struct {
		body string
		want int
	}{
		{``, http.StatusOK},
		{`{}`, http.StatusOK},
		{`{"hold":"1ms","ttl":"1s","wait":"0s","crash":false}`, http.StatusOK},
		{`{"hold":"soon"}`, http.StatusBadRequest},
		{`{"hold":"-1ms"}`, http.StatusBadRequest},
		{`{"hold":"6s"}`, http.StatusBadRequest},
		{`{"ttl":"1ms"}`, http.StatusBadRequest},
		{`{"ttl":"2m"}`, http.StatusBadRequest},
		{`{"wait":"6s"}`, http.StatusBadRequest},
		{`{"hold":30}`, http.StatusBadRequest},
		{`{"holdd":"1ms"}`, http.StatusBadRequest},
	} {
		r := mustCall(t, http.MethodPost, srv.URL+"/locks/bad/run", nil, tc.body)
		if r.status != tc.want || r.ctype != "application/json" {
			t.Errorf("body %q: %d %s, want %d", tc.body, r.status, r.body, tc.want)
		}
		if tc.want == http.StatusBadRequest && !strings.Contains(decode[errorBody](t, r).Error, "body must be") {
			t.Errorf("body %q: error %s", tc.body, r.body)
		}
	}
	c := Config{Mode: modeSafe, Driver: driverSQLite, DSN: "/tmp/x.db", RedisURL: "http://nope"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "redis URL") {
		t.Errorf("Validate(RedisURL http://nope) = %v", err)
	}
	c.RedisURL = "redis://127.0.0.1:1/0"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Open(ctx, c); err == nil || !strings.Contains(err.Error(), "ping redis") {
		t.Errorf("Open with Redis on a closed port = %v, want a ping error", err)
	}
}
