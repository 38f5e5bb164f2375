package history

import (
	"fmt"
	"time"
)

// Outcome is what is known about whether an operation took effect.
type Outcome string

const (
	// OK means a response arrived that the profile counts as success: the
	// operation took effect.
	OK Outcome = "ok"
	// Fail means the operation definitely did not take effect: the request was
	// never sent (connection refused), or the response is one the profile
	// counts as a rejection (by default 4xx).
	Fail Outcome = "fail"
	// Unknown means the operation may or may not have taken effect: a timeout,
	// a reset or EOF after the request was written, or (by default) a 5xx.
	Unknown Outcome = "unknown"
)

// Valid reports whether o is one of the three outcomes.
func (o Outcome) Valid() bool { return o == OK || o == Fail || o == Unknown }

// ParseOutcome parses "ok", "fail" or "unknown".
func ParseOutcome(s string) (Outcome, error) {
	o := Outcome(s)
	if !o.Valid() {
		return "", fmt.Errorf("unknown outcome %q (want ok, fail or unknown)", s)
	}
	return o, nil
}

// Op is one operation of a run: one HTTP request and what came of it.
type Op struct {
	// ID is unique within a run and increases in invoke order per operation.
	ID uint64 `json:"id"`
	// Op is the operation's name from the profile.
	Op string `json:"op"`
	// Key is the key the operation acted on, if the profile names one.
	Key string `json:"key,omitempty"`
	// Worker identifies the client that sent the request (a vegeta sequence
	// number or a burst member); porcupine uses it as the client id.
	Worker int `json:"worker"`
	// Logical links the attempts of one logical operation (client retries);
	// zero when the op is its own logical operation.
	Logical uint64 `json:"logical,omitempty"`
	// Attempt counts retries of the logical operation, starting at 1.
	Attempt int `json:"attempt,omitempty"`
	// Invoke is when the request was started.
	Invoke time.Time `json:"invoke"`
	// Complete is when the response (or the error) arrived. For unknown
	// outcomes it is when collide stopped waiting, not when the operation ended.
	Complete time.Time `json:"complete"`
	// Outcome is ok, fail or unknown.
	Outcome Outcome `json:"outcome"`
	// Status is the HTTP status code, or 0 when no response arrived.
	Status int `json:"status,omitempty"`
	// Sent reports whether the request was written to the connection.
	Sent bool `json:"sent"`
	// Error is the transport error text, if any.
	Error string `json:"error,omitempty"`
	// Values holds the values rendered into the request (seq, uuid, key …).
	Values map[string]string `json:"values,omitempty"`
	// Captures holds values captured from the response body.
	Captures map[string]any `json:"captures,omitempty"`
}

// Latency is Complete minus Invoke.
func (o *Op) Latency() time.Duration { return o.Complete.Sub(o.Invoke) }
