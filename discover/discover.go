package discover

import (
	"net/http"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
)

// Request is one HTTP request discovery sends alone, as recorded or
// described: a HAR entry, an OpenAPI operation with example values, or a
// profile's operation.
type Request struct {
	// ID is stable for the same input: "har:3", "openapi:POST /orders",
	// "profile:incr".
	ID string `json:"id"`
	// Endpoint names the route, method and path template:
	// "POST /counters/{id}/increment". Findings are per endpoint.
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	// URL is absolute (a HAR entry) or a path relative to the target's base
	// URL ("/counters/1/increment").
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
	// Source is where the request came from, for messages: "shop.har:
	// entry 3", "openapi.json: paths./orders.post".
	Source string `json:"source"`
	// Setup is true for a request that prepares state (a login, a create)
	// and is replayed before the others, not analysed for races.
	Setup bool `json:"setup,omitempty"`
	// Capture takes variables from the JSON response of this request
	// (usually a Setup one): variable name → dotted path with array
	// indexes, as a profile's capture (token: token, id: data.items.0.id).
	// Later requests use them as {{name}} in URL, header values and Body;
	// Render substitutes them.
	Capture map[string]string `json:"capture,omitempty"`
}

// Trace is what one request, sent alone, made the service send to its
// database.
type Trace struct {
	Request Request `json:"request"`
	// Status is the HTTP status of the response (0: none).
	Status int `json:"status"`
	// Err says what went wrong: no response (Status 0: a refused
	// connection, a timeout) or a capture missing from it; "" when
	// nothing did.
	Err string `json:"error,omitempty"`
	// Start and End bound the request: every statement of the trace
	// started and ended inside them.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Statements in the order they started, across the connections the
	// service used.
	Statements []tap.Statement `json:"statements"`
}

// Schema is what the analysis needs of the database's catalog.
type Schema struct {
	// Unique lists, per table (lower case, no schema prefix), the column
	// sets (lower case, in index order) that a primary key, unique index or
	// unique constraint makes unique.
	Unique map[string][][]string `json:"unique"`
}

// Class is a race class, named as the built-in profile that proves it.
type Class string

// The race classes discovery can report.
const (
	// LostUpdate: read a row, then write a value computed from it, without
	// a lock, a conditional UPDATE or a serializable transaction (counter).
	LostUpdate Class = "counter"
	// TOCTOUDebit: check a balance or stock, then subtract (toctou-debit,
	// oversell).
	TOCTOUDebit Class = "toctou-debit"
	// DoubleSubmit: select by a key, then insert with that key, where no
	// unique index covers it (double-submit, first-or-create).
	DoubleSubmit Class = "double-submit"
	// IdempotencyKey: an idempotency key's existence is checked, the work
	// done, and only then the key inserted (webhook-replay).
	IdempotencyKey Class = "webhook-replay"
	// NewestWins: a status or version column is overwritten without the
	// old value in the WHERE (out-of-order-jobs, two-tab-edit).
	NewestWins Class = "out-of-order-jobs"
)

// Finding is one race candidate: an endpoint whose statements have the
// shape of a race class. Findings are sorted by (Endpoint, Class, Table)
// and their IDs are stable for the same input, so nightly runs can diff.
type Finding struct {
	// ID is a short stable hash of endpoint, class and table: "F-3a9c1e".
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	// RequestID is the Request.ID of the trace that showed it.
	RequestID string `json:"request_id"`
	Class     Class  `json:"class"`
	Table     string `json:"table"`
	// Columns the read and the write share (the key or the value).
	Columns []string `json:"columns,omitempty"`
	// Evidence: the statements that make the shape, parameters redacted
	// unless asked, in order ("1. SELECT value FROM counters WHERE id = $1",
	// "2. UPDATE counters SET value = $1 WHERE id = $2").
	Evidence []string `json:"evidence"`
	// Why says in one sentence what is missing (no FOR UPDATE, no unique
	// index on orders(idempotency_key), …).
	Why string `json:"why"`
	// Checker is the built-in checker that proves it ("counter", "unique",
	// "exactly_one", "newest_wins", "never_negative").
	Checker string `json:"checker"`
	// Fix is the remedy from the fix list (seed 001).
	Fix string `json:"fix"`
}
