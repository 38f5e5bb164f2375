package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The locks race class (audit RC-007): POST /locks/{name}/run acquires a
// lock on name, holds it for "hold" (simulated work), then releases it.
// Never may two holders hold one name at once; a holder that dies
// ("crash": true) must not block the name forever; a busy lock must be
// refused quickly (423), never hang.
//
// Backends, chosen once in Open:
//
//	Config.RedisURL set (either driver): backend "redis", key lock:{name}.
//	  racy: GET; if free, think, SET token PX ttl (no NX): two requests
//	        that both saw it free both "acquire"; release is a plain DEL,
//	        which may delete another holder's lock.
//	  safe: think, SET token NX PX ttl; a watchdog renews the lease every
//	        ttl/3 (compare-and-PEXPIRE script) while held; release is a
//	        compare-and-delete script.
//	postgres without Redis: backend "postgres".
//	  racy: the locks table, check-then-upsert: SELECT the row; if free or
//	        expired, think, upsert holder and expiry unconditionally;
//	        release DELETEs the row by name, whoever holds it.
//	  safe: pg_try_advisory_lock(fnv64(name)) on a connection of its own,
//	        held for the hold, then pg_advisory_unlock. It is bound to the
//	        connection, not a lease: ttl is ignored, and a crash closes the
//	        connection, which makes PostgreSQL free the lock at once.
//	mysql (MariaDB, MySQL) without Redis: backend "mysql".
//	  racy: the same check-then-upsert as on postgres.
//	  safe: GET_LOCK(name, 0) on a connection of its own, then
//	        RELEASE_LOCK: bound to the session like PostgreSQL's advisory
//	        locks (ttl ignored; a crash closes the connection, which frees
//	        the lock at once). The GET_LOCK name is fnv64(database, name) in hex.
//	sqlite without Redis: backend "sqlite".
//	  racy: the same check-then-upsert as on postgres.
//	  safe: an atomic lease in the locks table: one upsert that takes the
//	        row only if it is expired (ON CONFLICT ... DO UPDATE ... WHERE
//	        locks.expires_us <= now), renewed by a watchdog (UPDATE ...
//	        WHERE holder = token) and released by DELETE ... WHERE holder =
//	        token.
//
// A crash returns without releasing: a lease (redis, table) runs out after
// its TTL (at most ttl after the crash, since the watchdog stops), a
// PostgreSQL advisory lock is freed when its connection closes. The safe
// paths answer 200 only when the release proved the lock was still theirs;
// otherwise (the lease ran out and was taken, the connection broke) they
// answer 500 "lock lost during hold", so checkers can trust every 200 hold.
//
// Every hold (released, crashed or lost) is recorded in lock_log(name,
// holder, backend, acquired_us, released_us, status): times in Unix
// microseconds, released_us NULL for a crash, status "released", "crashed"
// or "lost". acquired_us is taken after the acquisition returned and
// released_us before the release is sent, so the recorded interval lies
// inside the real hold: in safe mode no two "released" intervals of one
// name overlap.

// Limits of the lock request's durations: hold and wait together stay well
// within the request timeout.
const (
	defaultLockHold = 10 * time.Millisecond
	defaultLockTTL  = time.Second
	maxLockHold     = 5 * time.Second
	maxLockWait     = 5 * time.Second
	minLockTTL      = 10 * time.Millisecond
	maxLockTTL      = time.Minute
	// lockRetry is the pause between acquisition attempts while waiting.
	lockRetry = 5 * time.Millisecond
	// releaseTimeout bounds the release and the log write, which run even
	// when the request's context has ended.
	releaseTimeout = 2 * time.Second
)

// Lock log statuses.
const (
	lockReleased = "released"
	lockCrashed  = "crashed"
	lockLost     = "lost"
)

// errLocked is the 423 message of a busy lock.
const errLocked = "locked"

// errLockLost is the 500 message of a safe hold whose release found the
// lock taken or gone.
const errLockLost = "lock lost during hold: another holder may have run concurrently"

const lockShape = `{"hold":"30ms","ttl":"500ms","wait":"0s","crash":false} (all optional)`

// lockRunBody is the response of POST /locks/{name}/run.
type lockRunBody struct {
	Name       string `json:"name"`
	Holder     string `json:"holder"`      // this request's token
	AcquiredAt string `json:"acquired_at"` // RFC 3339, UTC, nanoseconds
	ReleasedAt string `json:"released_at"` // "" when crashed
	Backend    string `json:"backend"`     // "redis", "postgres", "mysql" or "sqlite"
	Crashed    bool   `json:"crashed"`
	Attempts   int    `json:"attempts"` // acquisition attempts made
}

// lockBackend acquires named locks.
type lockBackend interface {
	// name is the backend's name in responses and lock_log.
	name() string
	// tryAcquire makes one attempt to take lock name for token with a
	// lease of ttl. It returns nil, nil when the lock is busy.
	tryAcquire(ctx context.Context, name, token string, ttl time.Duration) (heldLock, error)
}

// heldLock is an acquired lock.
type heldLock interface {
	// renews reports whether the holder must keep the lease alive with
	// extend while it holds the lock.
	renews() bool
	// extend renews the lease for ttl; false if the lock is no longer ours.
	extend(ctx context.Context, ttl time.Duration) (bool, error)
	// release frees the lock; false if it was no longer ours.
	release(ctx context.Context) (bool, error)
	// abandon drops the lock without releasing it, like a crashed holder.
	abandon()
}

// newLockBackend picks the backend of the locks endpoint.
func (s *Service) newLockBackend() lockBackend {
	racy := s.cfg.Mode == modeRacy
	switch {
	case s.rdb != nil:
		return &redisLocks{s: s, racy: racy}
	case s.cfg.Driver == driverPostgres && !racy:
		return &advisoryLocks{s: s}
	case s.cfg.Driver == driverMySQL && !racy:
		return newNamedLocks(s)
	default:
		return &tableLocks{s: s, racy: racy}
	}
}

// openRedis connects to url and pings it; poolSize bounds its connections.
func openRedis(ctx context.Context, url string, poolSize int) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("demo: redis URL: %w", err)
	}
	opt.PoolSize = poolSize
	opt.ContextTimeoutEnabled = true // the request's deadline bounds every command
	opt.MaxRetries = -1              // a retried SET NX could find its own key: never retry
	opt.DisableIdentity = true
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("demo: ping redis %s: %w", opt.Addr, err)
	}
	return rdb, nil
}

func (s *Service) handleLockRun(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body struct {
		Hold  string `json:"hold"`
		TTL   string `json:"ttl"`
		Wait  string `json:"wait"`
		Crash bool   `json:"crash"`
	}
	if !decodeOptionalBody(w, r, &body, lockShape) {
		return
	}
	hold, ok := lockDuration(w, "hold", body.Hold, defaultLockHold, 0, maxLockHold)
	if !ok {
		return
	}
	ttl, ok := lockDuration(w, "ttl", body.TTL, defaultLockTTL, minLockTTL, maxLockTTL)
	if !ok {
		return
	}
	wait, ok := lockDuration(w, "wait", body.Wait, 0, 0, maxLockWait)
	if !ok {
		return
	}
	ctx := r.Context()
	token := rand.Text()
	if s.cfg.Mode == modeSafe {
		if err := s.think(ctx); err != nil {
			writeDBError(w, fmt.Sprintf("lock %q", name), err)
			return
		}
	}

	// Acquire: one attempt, then more every lockRetry until wait is over.
	deadline := time.Now().Add(wait)
	var (
		h        heldLock
		attempts int
	)
	for {
		attempts++
		var err error
		if h, err = s.locks.tryAcquire(ctx, name, token, ttl); err != nil {
			writeDBError(w, fmt.Sprintf("acquire lock %q", name), err)
			return
		}
		if h != nil {
			break
		}
		if !time.Now().Before(deadline) {
			writeError(w, http.StatusLocked, errLocked)
			return
		}
		if err := sleep(ctx, lockRetry); err != nil {
			writeDBError(w, fmt.Sprintf("acquire lock %q", name), err)
			return
		}
	}
	acquired := time.Now()
	out := lockRunBody{Name: name, Holder: token, AcquiredAt: stamp(acquired), Backend: s.locks.name(), Attempts: attempts}

	// Hold, keeping a lease alive.
	lost, holdErr := s.holdLock(ctx, h, hold, ttl)

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if body.Crash && holdErr == nil {
		h.abandon()
		if err := s.logHold(dctx, name, token, acquired, time.Time{}, lockCrashed); err != nil {
			writeDBError(w, fmt.Sprintf("log hold of lock %q", name), err)
			return
		}
		out.Crashed = true
		writeJSON(w, http.StatusOK, out)
		return
	}
	released := time.Now()
	ok, err := h.release(dctx)
	status := lockReleased
	if err != nil || !ok || lost {
		status = lockLost
	}
	lerr := s.logHold(dctx, name, token, acquired, released, status)
	switch {
	case holdErr != nil:
		writeDBError(w, fmt.Sprintf("hold lock %q", name), holdErr)
	case status == lockLost && err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s (release: %v)", errLockLost, err))
	case status == lockLost:
		writeError(w, http.StatusInternalServerError, errLockLost)
	case lerr != nil:
		writeDBError(w, fmt.Sprintf("log hold of lock %q", name), lerr)
	default:
		out.ReleasedAt = stamp(released)
		writeJSON(w, http.StatusOK, out)
	}
}

// holdLock sleeps for hold while renewing h's lease every ttl/3, if it has
// one. lost reports that a renewal found the lock no longer ours.
func (s *Service) holdLock(ctx context.Context, h heldLock, hold, ttl time.Duration) (lost bool, err error) {
	if !h.renews() {
		return false, sleep(ctx, hold)
	}
	done := make(chan struct{})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lostOnce bool
	)
	wg.Go(func() {
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// An error leaves the lease to the release's verdict.
				if ok, err := h.extend(ctx, ttl); err == nil && !ok {
					mu.Lock()
					lostOnce = true
					mu.Unlock()
				}
			}
		}
	})
	err = sleep(ctx, hold)
	close(done)
	wg.Wait()
	return lostOnce, err
}

// lockDuration parses one of the lock request's durations; "" means def.
// On a bad value it writes a 400 and returns false.
func lockDuration(w http.ResponseWriter, field, v string, def, lo, hi time.Duration) (time.Duration, bool) {
	if v == "" {
		return def, true
	}
	d, err := time.ParseDuration(v)
	if err == nil && (d < lo || d > hi) {
		err = fmt.Errorf("%v is outside [%v, %v]", d, lo, hi)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body must be %s: %s: %v", lockShape, field, err))
		return 0, false
	}
	return d, true
}

// stamp formats t for a response: RFC 3339 in UTC with nanoseconds.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// logHold records one hold in lock_log; a zero released is stored as NULL.
func (s *Service) logHold(ctx context.Context, name, holder string, acquired, released time.Time, status string) error {
	var rel sql.NullInt64
	if !released.IsZero() {
		rel = sql.NullInt64{Int64: released.UnixMicro(), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, s.dialect.q(
		`INSERT INTO lock_log (name, holder, backend, acquired_us, released_us, status) VALUES (?, ?, ?, ?, ?, ?)`),
		name, holder, s.locks.name(), acquired.UnixMicro(), rel, status)
	return err
}

// --- Redis ---

// redisLocks keeps lock {name} at the Redis key lock:{name}.
type redisLocks struct {
	s    *Service
	racy bool
}

// Scripts of the safe Redis lock: compare the token, then act.
var (
	redisRelease = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`)
	redisExtend  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`)
)

func (l *redisLocks) name() string { return "redis" }

func (l *redisLocks) tryAcquire(ctx context.Context, name, token string, ttl time.Duration) (heldLock, error) {
	key := "lock:" + name
	rdb := l.s.rdb
	if !l.racy {
		ok, err := rdb.SetNX(ctx, key, token, ttl).Result()
		if err != nil || !ok {
			return nil, err
		}
		return &redisHeld{rdb: rdb, key: key, token: token}, nil
	}
	switch err := rdb.Get(ctx, key).Err(); {
	case err == nil:
		return nil, nil // held by someone
	case !errors.Is(err, redis.Nil):
		return nil, err
	}
	if err := l.s.think(ctx); err != nil {
		return nil, err
	}
	if err := rdb.Set(ctx, key, token, ttl).Err(); err != nil {
		return nil, err
	}
	return &redisHeld{rdb: rdb, key: key, token: token, racy: true}, nil
}

type redisHeld struct {
	rdb        *redis.Client
	key, token string
	racy       bool
}

func (h *redisHeld) renews() bool { return !h.racy }

func (h *redisHeld) extend(ctx context.Context, ttl time.Duration) (bool, error) {
	n, err := redisExtend.Run(ctx, h.rdb, []string{h.key}, h.token, ttl.Milliseconds()).Int64()
	return n == 1, err
}

func (h *redisHeld) release(ctx context.Context) (bool, error) {
	if h.racy {
		return true, h.rdb.Del(ctx, h.key).Err()
	}
	n, err := redisRelease.Run(ctx, h.rdb, []string{h.key}, h.token).Int64()
	return n == 1, err
}

func (h *redisHeld) abandon() {}

// --- The locks table (SQLite safe; racy on every driver) ---

// tableLocks keeps lock {name} as the row of the locks table named name.
type tableLocks struct {
	s    *Service
	racy bool
}

func (l *tableLocks) name() string { return l.s.cfg.Driver }

func (l *tableLocks) tryAcquire(ctx context.Context, name, token string, ttl time.Duration) (heldLock, error) {
	s := l.s
	upsert := `INSERT INTO locks (name, holder, expires_us) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us`
	if l.racy {
		if s.dialect.name == driverMySQL {
			upsert = `INSERT INTO locks (name, holder, expires_us) VALUES (?, ?, ?)
				ON DUPLICATE KEY UPDATE holder = VALUES(holder), expires_us = VALUES(expires_us)`
		}
		var expires int64
		err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT expires_us FROM locks WHERE name = ?`), name).Scan(&expires)
		switch {
		case err == nil && expires > time.Now().UnixMicro():
			return nil, nil // held by someone
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("read lock: %w", err)
		}
		if err := s.think(ctx); err != nil {
			return nil, err
		}
		if _, err := s.db.ExecContext(ctx, s.dialect.q(upsert), name, token, time.Now().Add(ttl).UnixMicro()); err != nil {
			return nil, fmt.Errorf("take lock: %w", err)
		}
		return &tableHeld{s: s, name: name, token: token, racy: true}, nil
	}
	now := time.Now()
	var holder string
	err := s.db.QueryRowContext(ctx, s.dialect.q(upsert+` WHERE locks.expires_us <= ? RETURNING holder`),
		name, token, now.Add(ttl).UnixMicro(), now.UnixMicro()).Scan(&holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil // held by someone, lease not expired
	case err != nil:
		return nil, fmt.Errorf("take lock: %w", err)
	}
	return &tableHeld{s: s, name: name, token: token}, nil
}

type tableHeld struct {
	s           *Service
	name, token string
	racy        bool
}

func (h *tableHeld) renews() bool { return !h.racy }

func (h *tableHeld) extend(ctx context.Context, ttl time.Duration) (bool, error) {
	res, err := h.s.db.ExecContext(ctx, h.s.dialect.q(`UPDATE locks SET expires_us = ? WHERE name = ? AND holder = ?`),
		time.Now().Add(ttl).UnixMicro(), h.name, h.token)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (h *tableHeld) release(ctx context.Context) (bool, error) {
	if h.racy {
		_, err := h.s.db.ExecContext(ctx, h.s.dialect.q(`DELETE FROM locks WHERE name = ?`), h.name)
		return true, err
	}
	res, err := h.s.db.ExecContext(ctx, h.s.dialect.q(`DELETE FROM locks WHERE name = ? AND holder = ?`), h.name, h.token)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (h *tableHeld) abandon() {}

// --- PostgreSQL advisory locks (safe) ---

// advisoryLocks takes session advisory locks, keyed by fnv64(name), each on
// a pooled connection reserved for the hold.
type advisoryLocks struct{ s *Service }

func (l *advisoryLocks) name() string { return driverPostgres }

// advisoryKey maps a lock name to its advisory lock key.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("collide-lock:" + name))
	return int64(h.Sum64())
}

func (l *advisoryLocks) tryAcquire(ctx context.Context, name, _ string, _ time.Duration) (heldLock, error) {
	conn, err := l.s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connection: %w", err)
	}
	key := advisoryKey(name)
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		discard(conn) // the lock may have been taken on it: never pool it again
		return nil, fmt.Errorf("pg_try_advisory_lock: %w", err)
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return &advisoryHeld{conn: conn, key: key}, nil
}

type advisoryHeld struct {
	conn *sql.Conn
	key  int64
}

func (h *advisoryHeld) renews() bool { return false }

func (h *advisoryHeld) extend(context.Context, time.Duration) (bool, error) { return true, nil }

func (h *advisoryHeld) release(ctx context.Context) (bool, error) {
	var ok bool
	if err := h.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, h.key).Scan(&ok); err != nil {
		discard(h.conn) // closing the session frees whatever it held
		return false, fmt.Errorf("pg_advisory_unlock: %w", err)
	}
	if !ok {
		discard(h.conn)
		return false, nil
	}
	return true, h.conn.Close()
}

// abandon closes the connection without unlocking: PostgreSQL frees the
// session's advisory locks when the session ends.
func (h *advisoryHeld) abandon() { discard(h.conn) }

// discard closes conn's underlying database connection instead of returning
// it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
