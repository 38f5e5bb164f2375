// Package history owns the operation record shared by attacks and invariants.
//
// Every request collide sends becomes one Op: its id, operation name, key,
// worker, invoke and complete times (wall clock, nanosecond precision), its
// Outcome (ok, fail or unknown, following Jepsen's rule), the HTTP status,
// values rendered into the request and values captured from the response.
// Ops are streamed to a JSON Lines file by Writer and read back by Reader, so
// a run of millions of requests never holds its history in memory. Tally keeps
// the per-operation outcome counts that checkers use in their bounds.
//
// The package knows nothing of HTTP or SQL.
package history
