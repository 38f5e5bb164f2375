package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Modes accepted in Config.Mode.
const (
	modeRacy = "racy"
	modeSafe = "safe"
)

// defaultMaxConns is the pool size used when Config.MaxConns is 0.
const defaultMaxConns = 32

// requestTimeout bounds every request, including its database work, so a
// database behind a stalled proxy can never hold a request open forever. It
// is longer than SQLite's busy_timeout (10 s) so a lock wait fails as a
// database error, not as a timeout.
const requestTimeout = 15 * time.Second

// healthTimeout bounds the database ping of GET /healthz.
const healthTimeout = 2 * time.Second

// maxBodyBytes caps the size of a request body.
const maxBodyBytes = 1 << 20

// Config says how to run the demo service.
type Config struct {
	// Mode selects the implementation of every endpoint: "racy" (the
	// classic bugs: read-modify-write, check-then-act) or "safe" (atomic
	// statements, a reserved idempotency key).
	Mode string
	// Driver is the database: "sqlite", "postgres" or "mysql" (MariaDB or
	// MySQL).
	Driver string
	// DSN names the database. For sqlite: a file path such as
	// /tmp/x/demo.db (optionally followed by ?params) or a "file:" URI;
	// the WAL, busy-timeout and immediate-lock settings are added unless
	// the DSN sets them. For postgres: a URL such as
	// postgres://user:pass@host:5432/db?sslmode=disable (or any DSN pgx
	// accepts). For mysql: go-sql-driver/mysql's form,
	// user:pass@tcp(host:3306)/db, or a URL mysql://user:pass@host:3306/db
	// (mariadb:// too); see mysqlDSN for the parameters added.
	DSN string
	// Think is the simulated work time between a handler's read and its
	// write, in both modes; it widens race windows like a real handler.
	// Zero means no pause; callers usually default it to 2ms.
	Think time.Duration
	// Slowdown makes every response later by this fraction of the time its
	// handler took: 0.3 holds each response back 30% of its handling time
	// before it leaves, as a 30% slower build of the service would. Zero
	// (the default) adds nothing. For measuring regression gates
	// (docs/ci.md), not races.
	Slowdown float64
	// MaxConns is the database connection pool size: the most open
	// connections, all opened by Open and kept idle between requests;
	// 0 means 32.
	MaxConns int
	// RedisURL, if set (e.g. redis://127.0.0.1:6379/0), is the Redis
	// server of the locks endpoint (POST /locks/{name}/run), on any
	// driver. Without it the safe locks use PostgreSQL's advisory locks,
	// MariaDB's GET_LOCK or, on SQLite, a lease table. Open pings it.
	RedisURL string
	// Seed seeds the service's random source (the run time of the
	// regenerate jobs, the pauses between a racy bulk update's rows), so a
	// run can be replayed; 0 picks a random seed.
	Seed uint64
}

// Validate reports the first problem with c, or nil.
func (c Config) Validate() error {
	switch c.Mode {
	case modeRacy, modeSafe:
	case "":
		return errors.New(`demo: mode is empty: want "racy" or "safe"`)
	default:
		return fmt.Errorf(`demo: unknown mode %q: want "racy" or "safe"`, c.Mode)
	}
	switch c.Driver {
	case driverSQLite, driverPostgres, driverMySQL:
	case "":
		return errors.New(`demo: driver is empty: want "sqlite", "postgres" or "mysql"`)
	default:
		return fmt.Errorf(`demo: unknown driver %q: want "sqlite", "postgres" or "mysql"`, c.Driver)
	}
	if strings.TrimSpace(c.DSN) == "" {
		return fmt.Errorf("demo: %s DSN is empty", c.Driver)
	}
	if c.Driver == driverSQLite {
		if strings.Contains(c.DSN, ":memory:") || strings.Contains(c.DSN, "mode=memory") {
			return fmt.Errorf("demo: sqlite DSN %q is in-memory: each pooled connection would get its own database; use a file path", c.DSN)
		}
	}
	if c.Driver == driverMySQL {
		if _, err := mysqlDSN(c.DSN); err != nil {
			return fmt.Errorf("demo: mysql DSN: %w", err)
		}
	}
	if c.Think < 0 {
		return fmt.Errorf("demo: think time %v is negative", c.Think)
	}
	if c.Slowdown < 0 || c.Slowdown > maxSlowdown || math.IsNaN(c.Slowdown) {
		return fmt.Errorf("demo: slowdown %v is outside 0…%v", c.Slowdown, maxSlowdown)
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("demo: max conns %d is negative (0 means %d)", c.MaxConns, defaultMaxConns)
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			return fmt.Errorf("demo: redis URL: %w", err)
		}
	}
	return nil
}

// Service is the demo service: an open database and the HTTP handler that
// serves it. It is safe for concurrent use.
type Service struct {
	cfg     Config
	dialect dialect
	db      *sql.DB
	handler http.Handler

	// timeout bounds each request (requestTimeout; tests shorten it).
	timeout time.Duration

	// rng drives the random durations (jobs, racy bulk pauses); it is not
	// safe for concurrent use, hence rngMu.
	rngMu sync.Mutex
	rng   *rand.Rand

	// rdb is the client of Config.RedisURL, or nil.
	rdb *redis.Client
	// locks is the backend of POST /locks/{name}/run.
	locks lockBackend
	// cache is the racy mode's read cache of GET /kv/{key}.
	cache kvCache
	// readCache is the read-through cache of GET /cache/{key} (cache.go).
	readCache readCache
	// arrivals is the arrival log of collide's burst copies (arrivals.go).
	arrivals arrivalLog

	closeOnce sync.Once
	closeErr  error
}

// Open validates cfg, opens and pings the database (and Redis, if
// cfg.RedisURL is set), creates the schema if it is missing (the tables and
// seed rows listed in the package documentation) and returns the service.
// ctx bounds only the opening, not the service's life. Call Close when done.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := sqliteDialect
	switch cfg.Driver {
	case driverPostgres:
		d = postgresDialect
	case driverMySQL:
		d = mysqlDialect
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = defaultMaxConns
	}
	db, err := openDB(ctx, cfg, d, maxConns)
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Service{cfg: cfg, dialect: d, db: db, timeout: requestTimeout,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if cfg.RedisURL != "" {
		if s.rdb, err = openRedis(ctx, cfg.RedisURL, maxConns); err != nil {
			db.Close()
			return nil, err
		}
	}
	s.locks = s.newLockBackend()
	s.handler = s.routes()
	return s, nil
}

// Mode returns the service's mode: "racy" or "safe".
func (s *Service) Mode() string { return s.cfg.Mode }

// LockBackend names the backend of POST /locks/{name}/run: "redis",
// "postgres", "mysql" or "sqlite".
func (s *Service) LockBackend() string { return s.locks.name() }

// Handler returns the service's HTTP handler:
//
//	GET  /healthz                  {"ok":true,"mode":"racy"}; 503 if the database is down
//	GET  /counters/{id}            {"id":1,"value":N}; 404 if absent
//	POST /counters/{id}/increment  {"id":1,"value":N} (the new value); 404 if absent
//	POST /orders                   header Idempotency-Key, body {"item":"..."} (optional):
//	                               201 created, 200 replayed, 409 in progress, 400 no key
//	GET  /orders?key=K             the orders stored for key K
//	GET  /docs/{id}                {"id":1,"title":"...","version":V}
//	PUT  /docs/{id}                {"version":V,"title":"..."}: 200 {"id","title","version"} (new version);
//	                               safe: 409 {"error":"resource was modified, refresh","version":current}
//	GET  /projects/{id}/items      {"project_id":1,"count":N,"items":["..."]}
//	POST /projects/{id}/items      {"item":"..."}: 201 {"project_id","item","count"}
//	GET  /reports/{id}             {"id":1,"job":N,"result":"..."}; 404 before the first job
//	POST /reports/{id}/regenerate  {"job":N}: 200 {"id","job","applied","result","took_ms"}
//	GET  /items                    {"count":N,"items":[{"id","price","batch","edits"}]}
//	POST /items/bulk               {"batch":B,"price":P}: 200 {"batch","price","rows"}
//	POST /items/{id}/edit          200 {"id","price","batch","edits"} (the new edits)
//	GET  /accounts/{id}            {"id":1,"balance":N}
//	POST /accounts/{id}/debit      {"amount":A}: 200 {"id","amount","balance"}; 409 insufficient funds
//	POST /accounts/transfer        {"from":1,"to":2,"amount":A}: 200 {"from","to","amount","from_balance","to_balance"};
//	                               409 insufficient funds
//	GET  /products/{id}            {"id":1,"stock":N,"purchases":M}
//	POST /products/{id}/purchase   {"buyer":"..."}: 201 {"purchase_id","product_id","buyer","stock"}; 409 sold out
//	GET  /wallets/{id}             {"id":1,"balance":N}
//	POST /webhooks                 {"event_id":"...","wallet":1,"amount":A}: 200 {"event_id","wallet","amount","applied","balance"}
//	POST /locks/{name}/run         {"hold":"30ms","ttl":"500ms","wait":"0s","crash":false} (all optional): 200 {"name",
//	                               "holder","acquired_at","released_at","backend","crashed","attempts"}; 423 locked;
//	                               500 "lock lost during hold" (safe)
//	GET  /kv/{key}                 {"key":"k","value":N}, value null when absent
//	PUT  /kv/{key}                 {"value":N}: 200 {"key","value"}
//	GET  /cache/{key}              {"key":"k","value":N}, value null when absent (through a read cache)
//	PUT  /cache/{key}              {"value":N}: 200 {"key","value"} (invalidates the cached entry)
//	POST /signup                   {"name":"..."}: 201 {"id","name"} (a member and its profile row)
//	POST /login                    {"user":"alice"} ("password" optional, ignored): 200 {"token":"...",
//	                               "user":{"id","name"}}; the user is created on first login
//	POST /resources                * {"name":"..."}: 201 {"id","name"}
//	GET  /resources/{id}           * {"id":1,"name":"..."}
//	POST /resources/{id}/favorite  * 201 {"id","resource_id","user_id"} created; 200 (same shape) existed
//	GET  /resources/{id}/favorites * {"resource_id":1,"count":N,"favorites":[{"id","resource_id","user_id"}]}
//
//	GET  /_collide/arrivals        {"arrivals":{"<op id>":"<RFC 3339 UTC, ns>"},"dropped":N}: when each request
//	                               carrying X-Collide-Burst arrived, by its X-Collide-Op (see Arrivals)
//	DELETE /_collide/arrivals      empties that log: 200 {"cleared":N}
//	GET  /openapi.json             the OpenAPI 3 document of these routes, with working examples (OpenAPI)
//
// Routes marked * need "Authorization: Bearer <token>" (a token from POST
// /login), else 401.
//
// Every response is JSON; errors are {"error":"..."} with status 400, 401,
// 404, 409, 423 or 500 (database errors, timeouts). Each request is bounded
// by a 15 s timeout.
func (s *Service) Handler() http.Handler { return s.handler }

// readHeaderTimeout bounds the reading of a request's header by the
// server of HTTPServer.
const readHeaderTimeout = 10 * time.Second

// HTTPServer returns a new http.Server for Handler that speaks HTTP/1.1
// and, over cleartext with prior knowledge (h2c, no Upgrade), HTTP/2 on the
// same listener, so a client may multiplex a burst on one connection.
// Serve it on a plain listener; the caller shuts it down.
func (s *Service) HTTPServer() *http.Server {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout, Protocols: p}
}

// Close closes the database pool and the Redis client. It is safe to call
// more than once.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("demo: close %s: %w", s.cfg.Driver, err)
		}
		if s.rdb != nil {
			if err := s.rdb.Close(); err != nil && s.closeErr == nil {
				s.closeErr = fmt.Errorf("demo: close redis: %w", err)
			}
		}
	})
	return s.closeErr
}

// route is one pattern of the demo's mux and its handler.
type route struct {
	pattern string // "METHOD /path/{param}", as http.ServeMux reads it
	handler http.HandlerFunc
}

// routeTable lists every route the service serves, in the order of the
// Handler documentation; routes builds the mux from it, and the test of
// openapi.json compares the document with it. It only takes method values
// of s, so it may be called on a nil *Service to read the patterns.
func (s *Service) routeTable() []route {
	return []route{
		{"GET /healthz", s.handleHealthz},
		{"GET /counters/{id}", s.handleGetCounter},
		{"POST /counters/{id}/increment", s.handleIncrement},
		{"POST /orders", s.handleCreateOrder},
		{"GET /orders", s.handleListOrders},
		{"GET /docs/{id}", s.handleGetDoc},
		{"PUT /docs/{id}", s.handlePutDoc},
		{"GET /projects/{id}/items", s.handleListItems},
		{"POST /projects/{id}/items", s.handleAddItem},
		{"GET /reports/{id}", s.handleGetReport},
		{"POST /reports/{id}/regenerate", s.handleRegenerate},
		{"GET /items", s.handleListBulkItems},
		{"POST /items/bulk", s.handleBulk},
		{"POST /items/{id}/edit", s.handleEditItem},
		{"GET /accounts/{id}", s.handleGetAccount},
		{"POST /accounts/{id}/debit", s.handleDebit},
		{"POST /accounts/transfer", s.handleTransfer},
		{"GET /products/{id}", s.handleGetProduct},
		{"POST /products/{id}/purchase", s.handlePurchase},
		{"GET /wallets/{id}", s.handleGetWallet},
		{"POST /webhooks", s.handleWebhook},
		{"POST /locks/{name}/run", s.handleLockRun},
		{"GET /kv/{key}", s.handleGetKV},
		{"PUT /kv/{key}", s.handlePutKV},
		{"GET /cache/{key}", s.handleGetCache},
		{"PUT /cache/{key}", s.handlePutCache},
		{"POST /signup", s.handleSignup},
		{"POST /login", s.handleLogin},
		{"POST /resources", s.authed(s.handleCreateResource)},
		{"GET /resources/{id}", s.authed(s.handleGetResource)},
		{"POST /resources/{id}/favorite", s.authed(s.handleFavorite)},
		{"GET /resources/{id}/favorites", s.authed(s.handleListFavorites)},
		{"GET /_collide/arrivals", s.handleGetArrivals},
		{"DELETE /_collide/arrivals", s.handleResetArrivals},
		{"GET /openapi.json", serveOpenAPI},
	}
}

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	return s.recordArrivals(s.guard(mux))
}

// maxSlowdown bounds Config.Slowdown: at most 10× the handling time.
const maxSlowdown = 10

// guard bounds every request by s.timeout and turns a handler panic into a
// 500 response instead of a dropped connection. With Config.Slowdown it
// holds the response back (still buffered: the handlers' small JSON bodies
// are written when the handler returns) for that fraction of the handler's
// time, within the request's timeout.
func (s *Service) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		if f := s.cfg.Slowdown; f > 0 {
			start := time.Now()
			defer func() { _ = sleep(ctx, time.Duration(f*float64(time.Since(start)))) }() // a timeout just ends the pause
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", v))
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// healthBody is the response of GET /healthz.
type healthBody struct {
	OK    bool   `json:"ok"`
	Mode  string `json:"mode"`
	Error string `json:"error,omitempty"`
}

func (s *Service) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, healthBody{
			OK: false, Mode: s.cfg.Mode, Error: fmt.Sprintf("ping %s: %v", s.cfg.Driver, err),
		})
		return
	}
	writeJSON(w, http.StatusOK, healthBody{OK: true, Mode: s.cfg.Mode})
}

// think pauses for cfg.Think, the simulated work between a handler's read
// and its write. It returns early with ctx's error if ctx ends first.
func (s *Service) think(ctx context.Context) error {
	if err := sleep(ctx, s.cfg.Think); err != nil {
		return fmt.Errorf("think: %w", err)
	}
	return nil
}

// sleep pauses for d, returning early with ctx's error if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// randDuration returns a duration drawn uniformly from [0, upTo) with the
// service's seeded source; 0 if upTo <= 0.
func (s *Service) randDuration(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(upTo)))
}

// decodeBody decodes the JSON request body into v, rejecting unknown
// fields and trailing data; on failure it writes a 400 naming the expected
// shape and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	return decodeJSON(w, r, v, shape, false)
}

// decodeOptionalBody is decodeBody for a body that may be empty (v is then
// left as it is).
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	return decodeJSON(w, r, v, shape, true)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any, shape string, optional bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if optional {
			return true
		}
		err = errors.New("empty body")
	}
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body must be %s: %v", shape, err))
		return false
	}
	return true
}

// pathID parses the integer path value {id}; what names the resource in
// the 400 it writes on failure.
func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s id %q is not an integer", what, r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// missing writes a 400 for a required body field that is absent.
func missing(w http.ResponseWriter, field, shape string) {
	writeError(w, http.StatusBadRequest, fmt.Sprintf("body must be %s: field %q is missing", shape, field))
}

// rollback ends tx when it was not committed; its error is irrelevant then.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeError writes {"error": msg} with the given status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeDBError writes a 500 for a database (or timeout) error during what.
func writeDBError(w http.ResponseWriter, what string, err error) {
	writeError(w, http.StatusInternalServerError, what+": "+err.Error())
}
