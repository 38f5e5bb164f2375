// Package demo owns the built-in service under test: a small JSON-over-HTTP
// service with one endpoint per race class, each in a "racy" and a "safe"
// implementation, on SQLite (modernc.org/sqlite) or PostgreSQL (pgx).
// collide attacks it to prove its checkers: under concurrency the racy
// implementation really loses updates and creates duplicates, the safe one
// never does.
//
// Race classes and endpoints (see Service.Handler for the wire format):
//
//   - counters (counter.go): POST /counters/{id}/increment. racy reads the
//     value, thinks, and writes back value+1 (lost updates); safe runs one
//     atomic UPDATE ... SET value = value + 1 RETURNING value.
//   - double submit (orders.go): POST /orders with an Idempotency-Key
//     header. racy checks for an order with the key, thinks, then inserts
//     (duplicates); safe reserves the key in idempotency_keys first, in one
//     transaction with the order. Concurrent copies wait on the key
//     (PostgreSQL's unique index, SQLite's write lock) and are answered with
//     the first copy's id (200, "replayed"); a key reserved without a
//     visible order gets 409.
//
// Both modes pause for Config.Think between a handler's read and its write,
// so the two differ only in correctness, not in latency.
//
// Open creates the schema idempotently, the same on both drivers:
//
//	counters(id BIGINT PRIMARY KEY, value BIGINT NOT NULL)          -- row (1, 0) seeded if absent
//	orders(id autoincrement PRIMARY KEY, idempotency_key TEXT NOT NULL,
//	       item TEXT NOT NULL DEFAULT '', created_at TIMESTAMP (UTC))  -- no UNIQUE on the key, on purpose
//	idempotency_keys(key TEXT PRIMARY KEY, order_id BIGINT NULL)
//
// Profiles reset it with e.g. "DELETE FROM counters; INSERT INTO
// counters(id, value) VALUES (1, 0)".
//
// Robustness: every request runs under a 15 s timeout and its queries use
// the request's context, so a database behind a stalled or resetting proxy
// turns into 500 responses, never a hung request or a panic. SQLite is
// opened in WAL mode with a 10 s busy timeout and BEGIN IMMEDIATE
// transactions, so lock contention waits rather than failing.
//
// The package knows nothing of the harness: it is only a target.
package demo
