package tap

import (
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
)

// ErrTLS is wrapped by the error of every TLS refusal Event.
var ErrTLS = errors.New("the tap cannot read it; disable TLS on the loopback link")

// Param is one bound parameter value of a statement.
type Param struct {
	// Text is the value as text: the text-format value as sent, a binary
	// value decoded when the tap knows its type (MySQL integers, floats,
	// strings, dates), otherwise its bytes in hex.
	Text string
	// Hex is true when Text holds the raw bytes in hex.
	Hex bool
	// Null is true for SQL NULL (Text is then empty).
	Null bool
}

// String renders the value as it would be written in a log: NULL, '\x…' for
// raw bytes, the text otherwise.
func (p Param) String() string {
	switch {
	case p.Null:
		return "NULL"
	case p.Hex:
		return `\x` + p.Text
	}
	return p.Text
}

func hexParam(b []byte) Param { return Param{Text: hex.EncodeToString(b), Hex: true} }

// Statement is one statement a client sent through the tap.
type Statement struct {
	ConnID uint64    // the proxy connection it arrived on, numbered from 1 per Tap
	Seq    int       // its order within the connection, from 1
	Start  time.Time // when the tap read the message that ran it from the client
	End    time.Time // when the tap read its completion from the server
	Text   string    // SQL text (a prepared statement's text for executes)
	Params []Param   // bound parameter values, in order
	InTxn  bool      // the server reported a transaction open before or after it
	TxnID  int       // the connection's transaction number from 1; 0 when not InTxn
	Tag    string    // command tag (PostgreSQL) or "OK n" / "rows" (MySQL); "; "-joined for several
	Err    string    // the server's error, if it failed ("CODE: message")
}

// EventKind names what an Event reports.
type EventKind string

const (
	EventConnect     EventKind = "connect"     // a client connection opened (Detail: startup parameters)
	EventClose       EventKind = "close"       // a client connection closed
	EventTLSRefused  EventKind = "tls-refused" // the tap refused TLS on the link (Err wraps ErrTLS)
	EventUndecodable EventKind = "undecodable" // the tap could not follow the stream; it still forwards it
	EventCut         EventKind = "cut"         // the Cut fault closed the connection (Detail: the statement)
	EventNote        EventKind = "note"        // COPY, LISTEN/NOTIFY, errors outside statements and other things worth knowing of
	EventUpstream    EventKind = "upstream"    // the tap could not reach Upstream; the client connection was closed
)

// Event is something that happened on a tap connection other than a statement.
type Event struct {
	Time   time.Time
	ConnID uint64
	Kind   EventKind
	Detail string
	Err    error
}

// Recorder keeps the statements and events of a Tap in memory, bounded: it
// keeps the newest capacity statements (and capacity events) and counts the
// ones it dropped. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	stmts    ring[Statement]
	events   ring[Event]
	dropped  uint64
	eDropped uint64
}

// DefaultCap is the capacity NewRecorder uses for a cap ≤ 0.
const DefaultCap = 100_000

// NewRecorder returns a Recorder that keeps at most capacity statements (and
// at most capacity events); capacity ≤ 0 means DefaultCap.
func NewRecorder(capacity int) *Recorder {
	if capacity <= 0 {
		capacity = DefaultCap
	}
	return &Recorder{stmts: newRing[Statement](capacity), events: newRing[Event](capacity)}
}

func (r *Recorder) addStatement(s Statement) {
	r.mu.Lock()
	if r.stmts.push(s) {
		r.dropped++
	}
	r.mu.Unlock()
}

func (r *Recorder) addEvent(e Event) {
	r.mu.Lock()
	if r.events.push(e) {
		r.eDropped++
	}
	r.mu.Unlock()
}

// Statements returns a copy of the kept statements, in the order they
// completed.
func (r *Recorder) Statements() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stmts.all()
}

// Events returns a copy of the kept events, oldest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events.all()
}

// Dropped returns how many statements were dropped because the buffer was full.
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Window returns the kept statements that started at or after from and
// ended at or before to: what one request sent alone in [from, to] made the
// service run.
func (r *Recorder) Window(from, to time.Time) []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Statement
	r.stmts.each(func(s Statement) {
		if !s.Start.Before(from) && !s.End.After(to) {
			out = append(out, s)
		}
	})
	return out
}

// Reset forgets every kept statement and event and the drop counts.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = newRing[Statement](len(r.stmts.buf))
	r.events = newRing[Event](len(r.events.buf))
	r.dropped, r.eDropped = 0, 0
}

// ring is a fixed-capacity FIFO that overwrites its oldest element.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest
	n     int
}

func newRing[T any](capacity int) ring[T] { return ring[T]{buf: make([]T, capacity)} }

// push appends v and reports whether the oldest element was dropped for it.
func (r *ring[T]) push(v T) bool {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return false
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
	return true
}

func (r *ring[T]) each(f func(T)) {
	for i := range r.n {
		f(r.buf[(r.start+i)%len(r.buf)])
	}
}

func (r *ring[T]) all() []T {
	out := make([]T, 0, r.n)
	r.each(func(v T) { out = append(out, v) })
	return out
}

func joinTag(old, tag string) string {
	if old == "" {
		return tag
	}
	return strings.Join([]string{old, tag}, "; ")
}
