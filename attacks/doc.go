// Package attacks owns load generation. It builds on Vegeta's library
// (github.com/tsenart/vegeta/v12/lib) for pacing, workers and HTTP, and adds
// what a correctness harness needs on top: request templates with per-request
// unique values ({{seq}}, {{uuid}}, {{key}}), and a history Op for every
// request whose outcome follows Jepsen's rule — ok, fail (definitely not
// applied: refused before a byte was written, or a rejection status), or
// unknown (timeout, reset, EOF after the request was written, or 5xx).
//
// Whether a request was written is observed with net/http/httptrace, not
// guessed from error strings. The package knows nothing of databases.
package attacks
