package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
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
	// Driver is the database: "sqlite" or "postgres".
	Driver string
	// DSN names the database. For sqlite: a file path such as
	// /tmp/x/demo.db (optionally followed by ?params) or a "file:" URI;
	// the WAL, busy-timeout and immediate-lock settings are added unless
	// the DSN sets them. For postgres: a URL such as
	// postgres://user:pass@host:5432/db?sslmode=disable (or any DSN pgx
	// accepts).
	DSN string
	// Think is the simulated work time between a handler's read and its
	// write, in both modes; it widens race windows like a real handler.
	// Zero means no pause; callers usually default it to 2ms.
	Think time.Duration
	// MaxConns is the database connection pool size: the most open
	// connections, all opened by Open and kept idle between requests;
	// 0 means 32.
	MaxConns int
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
	case driverSQLite, driverPostgres:
	case "":
		return errors.New(`demo: driver is empty: want "sqlite" or "postgres"`)
	default:
		return fmt.Errorf(`demo: unknown driver %q: want "sqlite" or "postgres"`, c.Driver)
	}
	if strings.TrimSpace(c.DSN) == "" {
		return fmt.Errorf("demo: %s DSN is empty", c.Driver)
	}
	if c.Driver == driverSQLite {
		if strings.Contains(c.DSN, ":memory:") || strings.Contains(c.DSN, "mode=memory") {
			return fmt.Errorf("demo: sqlite DSN %q is in-memory: each pooled connection would get its own database; use a file path", c.DSN)
		}
	}
	if c.Think < 0 {
		return fmt.Errorf("demo: think time %v is negative", c.Think)
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("demo: max conns %d is negative (0 means %d)", c.MaxConns, defaultMaxConns)
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

	closeOnce sync.Once
	closeErr  error
}

// Open validates cfg, opens and pings the database, creates the schema if it
// is missing (tables counters, orders and idempotency_keys, and the counter
// row id 1 with value 0 if absent) and returns the service. ctx bounds only
// the opening, not the service's life. Call Close when done.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := sqliteDialect
	if cfg.Driver == driverPostgres {
		d = postgresDialect
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = defaultMaxConns
	}
	db, err := openDB(ctx, cfg, d, maxConns)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, dialect: d, db: db, timeout: requestTimeout}
	s.handler = s.routes()
	return s, nil
}

// Mode returns the service's mode: "racy" or "safe".
func (s *Service) Mode() string { return s.cfg.Mode }

// Handler returns the service's HTTP handler:
//
//	GET  /healthz                  {"ok":true,"mode":"racy"}; 503 if the database is down
//	GET  /counters/{id}            {"id":1,"value":N}; 404 if absent
//	POST /counters/{id}/increment  {"id":1,"value":N} (the new value); 404 if absent
//	POST /orders                   header Idempotency-Key, body {"item":"..."} (optional):
//	                               201 created, 200 replayed, 409 in progress, 400 no key
//	GET  /orders?key=K             the orders stored for key K
//
// Every response is JSON; errors are {"error":"..."} with status 400, 404,
// 409 or 500 (database errors). Each request is bounded by a 15 s timeout.
func (s *Service) Handler() http.Handler { return s.handler }

// Close closes the database pool. It is safe to call more than once.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("demo: close %s: %w", s.cfg.Driver, err)
		}
	})
	return s.closeErr
}

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /counters/{id}", s.handleGetCounter)
	mux.HandleFunc("POST /counters/{id}/increment", s.handleIncrement)
	mux.HandleFunc("POST /orders", s.handleCreateOrder)
	mux.HandleFunc("GET /orders", s.handleListOrders)
	return s.guard(mux)
}

// guard bounds every request by s.timeout and turns a handler panic into a
// 500 response instead of a dropped connection.
func (s *Service) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
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
	if s.cfg.Think <= 0 {
		return nil
	}
	t := time.NewTimer(s.cfg.Think)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("think: %w", context.Cause(ctx))
	}
}

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
