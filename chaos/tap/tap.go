package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol is the database wire protocol a Tap decodes.
type Protocol int

const (
	Postgres Protocol = iota + 1 // PostgreSQL frontend/backend protocol 3.0
	MySQL                        // MySQL/MariaDB client/server protocol 4.1
)

func (p Protocol) String() string {
	switch p {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Config describes one Tap.
type Config struct {
	// Name names the link in errors and events, e.g. "database".
	Name string
	// Listen is the loopback host:port the service connects to;
	// "" means 127.0.0.1:0 (a free port, see Tap.Addr).
	Listen string
	// Upstream is the loopback host:port of the database.
	Upstream string
	// Protocol selects the decoder; required when Recorder or Cut is set.
	Protocol Protocol
	// Recorder receives the statements; nil records none.
	Recorder *Recorder
	// Cut is the statement-boundary fault armed from the start; nil injects
	// none until Arm sets one.
	Cut *Cut
	// Armable decodes the streams even with Recorder and Cut nil, so that
	// Arm may set a Cut later (Protocol is then required).
	Armable bool
	// DialTimeout bounds each dial of Upstream; 0 means 5s.
	DialTimeout time.Duration
	// OnEvent, if set, is called with every event as it happens (besides
	// keeping it), from the connection's goroutine: it must not block and
	// must not call Close.
	OnEvent func(Event)
}

// Tap is a running relay. Close stops it.
type Tap struct {
	cfg    Config
	ln     net.Listener
	decode bool
	events *Recorder // Config.Recorder, or a small private one for events only
	nextID atomic.Uint64
	active atomic.Int64
	cut    atomic.Pointer[armedCut] // the Cut in effect; nil: none

	mu     sync.Mutex
	conns  map[uint64]*conn
	closed bool
	wg     sync.WaitGroup
	stop   context.CancelFunc
}

// Start listens on cfg.Listen and relays every connection to cfg.Upstream
// until Close or until ctx is done.
func Start(ctx context.Context, cfg Config) (*Tap, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Name == "" {
		cfg.Name = "database"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	for _, a := range []struct{ field, addr string }{{"Listen", cfg.Listen}, {"Upstream", cfg.Upstream}} {
		if err := checkLoopback(a.addr); err != nil {
			return nil, fmt.Errorf("tap %q: %s: %w", cfg.Name, a.field, err)
		}
	}
	decode := cfg.Recorder != nil || cfg.Cut != nil || cfg.Armable
	if decode && cfg.Protocol != Postgres && cfg.Protocol != MySQL {
		return nil, fmt.Errorf("tap %q: Protocol %v: want Postgres or MySQL to record or cut", cfg.Name, cfg.Protocol)
	}
	if cfg.Cut != nil {
		if err := cfg.Cut.validate(); err != nil {
			return nil, fmt.Errorf("tap %q: %w", cfg.Name, err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("tap %q: listen: %w", cfg.Name, err)
	}
	t := &Tap{cfg: cfg, ln: ln, decode: decode, events: cfg.Recorder, conns: map[uint64]*conn{}}
	if cfg.Cut != nil {
		t.cut.Store(&armedCut{cut: cfg.Cut})
	}
	if t.events == nil {
		t.events = NewRecorder(1024)
	}
	ctx, t.stop = context.WithCancel(ctx)
	t.wg.Add(2)
	go func() { defer t.wg.Done(); <-ctx.Done(); t.shutdown() }()
	go func() { defer t.wg.Done(); t.accept(ctx) }()
	return t, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback IP: the tap relays loopback traffic only", addr)
	}
	return nil
}

// armedCut is one arming of a Cut: the connections' counts and the
// once-per-Tap flag (Every false) start afresh with each.
type armedCut struct {
	cut   *Cut
	fired atomic.Bool
}

// Arm makes c the Cut the tap injects from now on, counting statements that
// complete from now on; nil disarms it. The tap must decode (Config.Armable,
// Recorder or Cut set).
func (t *Tap) Arm(c *Cut) error {
	if c == nil {
		t.cut.Store(nil)
		return nil
	}
	if !t.decode {
		return fmt.Errorf("tap %q: Arm: the tap was started without decoding (set Config.Armable)", t.cfg.Name)
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("tap %q: %w", t.cfg.Name, err)
	}
	t.cut.Store(&armedCut{cut: c})
	return nil
}

// ProtocolNamed is the Protocol whose String is name.
func ProtocolNamed(name string) (Protocol, error) {
	for _, p := range []Protocol{Postgres, MySQL} {
		if p.String() == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("tap: no wire protocol %q (want %s or %s)", name, Postgres, MySQL)
}

// Addr is the address the tap listens on (host:port).
func (t *Tap) Addr() string { return t.ln.Addr().String() }

// Events returns the kept events (connections, TLS refusals, cuts,
// undecodable streams), oldest first.
func (t *Tap) Events() []Event { return t.events.Events() }

// Active is the number of client connections open through the tap.
func (t *Tap) Active() int { return int(t.active.Load()) }

// Close stops accepting, closes every connection and waits for the tap's
// goroutines to end.
func (t *Tap) Close() error {
	t.stop()
	t.wg.Wait()
	return nil
}

func (t *Tap) shutdown() {
	t.mu.Lock()
	t.closed = true
	cs := make([]*conn, 0, len(t.conns))
	for _, c := range t.conns {
		cs = append(cs, c)
	}
	t.mu.Unlock()
	t.ln.Close()
	for _, c := range cs {
		c.closeBoth()
	}
}

func (t *Tap) accept(ctx context.Context) {
	var d net.Dialer
	d.Timeout = t.cfg.DialTimeout
	for {
		cl, err := t.ln.Accept()
		if err != nil {
			return // listener closed
		}
		up, err := d.DialContext(ctx, "tcp", t.cfg.Upstream)
		if err != nil {
			t.event(0, EventUpstream, "", fmt.Errorf("tap %q: dial upstream %s: %w", t.cfg.Name, t.cfg.Upstream, err))
			cl.Close()
			continue
		}
		c := &conn{t: t, id: t.nextID.Add(1), client: cl, server: up}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			cl.Close()
			up.Close()
			return
		}
		t.conns[c.id] = c
		t.active.Add(1)
		t.wg.Add(1)
		t.mu.Unlock()
		go c.run()
	}
}

func (t *Tap) event(connID uint64, kind EventKind, detail string, err error) {
	e := Event{Time: time.Now(), ConnID: connID, Kind: kind, Detail: detail, Err: err}
	t.events.addEvent(e)
	if t.cfg.OnEvent != nil {
		t.cfg.OnEvent(e)
	}
}

// tlsError is the error of a TLS refusal on this tap's link.
func (t *Tap) tlsError(what string) error {
	hint := "sslmode=disable"
	if t.cfg.Protocol == MySQL {
		hint = "tls=false"
	}
	return fmt.Errorf("tap %q (%s → %s): %s: TLS on the %s link: %w, e.g. %s",
		t.cfg.Name, t.Addr(), t.cfg.Upstream, what, t.cfg.Name, ErrTLS, hint)
}

// conn is one client connection and its upstream connection.
type conn struct {
	t              *Tap
	id             uint64
	client, server net.Conn
	closeOnce      sync.Once
	// cutting is set once the Cut decided to end the connection, before
	// the last response bytes reach the client: from then on nothing the
	// client sends is forwarded (its next statement, sent on reading that
	// response, must not reach the server before the close does).
	cutting atomic.Bool

	// Decoder state, guarded by mu: both directions update it.
	mu    sync.Mutex
	seq   int  // statements so far
	txn   int  // transactions so far
	inTxn bool // the server's last reported status
	cc    cutCounter
	ccOf  *armedCut // the arming cc counts for
	dead  bool      // undecodable: stop decoding, keep forwarding
}

func (c *conn) closeBoth() {
	c.closeOnce.Do(func() {
		c.client.Close()
		c.server.Close()
	})
}

func (c *conn) run() {
	defer func() {
		c.closeBoth()
		c.t.mu.Lock()
		delete(c.t.conns, c.id)
		c.t.mu.Unlock()
		c.t.active.Add(-1)
		if c.t.decode {
			c.t.event(c.id, EventClose, "", nil)
		}
		c.t.wg.Done()
	}()
	if !c.t.decode {
		c.plain()
		return
	}
	var dec decoder
	switch c.t.cfg.Protocol {
	case Postgres:
		p := newPGDecoder(c)
		if err := p.prelude(); err != nil {
			return
		}
		dec = p
	case MySQL:
		dec = newMySQLDecoder(c)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.pump(c.server, c.client, dec.server)
		c.closeBoth()
	}()
	c.pump(c.client, c.server, func(p []byte, now time.Time) int {
		if err := dec.client(p, now); err != nil {
			c.t.event(c.id, EventTLSRefused, "", err)
			return 0
		}
		return -1
	})
	c.closeBoth()
	<-done
}

// plain relays both directions without looking at the bytes.
func (c *conn) plain() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c.client, c.server) //nolint:errcheck // the connection ends either way
		c.closeBoth()
	}()
	io.Copy(c.server, c.client) //nolint:errcheck // the connection ends either way
	c.closeBoth()
	<-done
}

// pump reads src, lets decode see each chunk and forwards it to dst. decode
// returns -1 to forward all of it, or n ≥ 0 to forward the first n bytes and
// end the connection.
func (c *conn) pump(src, dst net.Conn, decode func([]byte, time.Time) int) {
	buf := make([]byte, 64<<10)
	for {
		n, rerr := src.Read(buf)
		if c.cutting.Load() {
			return
		}
		if n > 0 {
			cut := decode(buf[:n], time.Now())
			end := n
			if cut >= 0 {
				end = cut
				c.cutting.Store(true)
			}
			if end > 0 {
				if _, err := dst.Write(buf[:end]); err != nil {
					return
				}
			}
			if cut >= 0 {
				c.closeBoth()
				return
			}
		}
		if rerr != nil {
			return
		}
	}
}

// decoder follows one protocol on one connection. Both methods are called
// with raw chunks as read and must not keep p.
type decoder interface {
	// client sees bytes from the client before they are forwarded; a
	// non-nil error (a TLS refusal) drops them and ends the connection.
	client(p []byte, now time.Time) error
	// server sees bytes from the server before they are forwarded and
	// returns -1, or the number of bytes to forward before the cut.
	server(p []byte, now time.Time) int
}

// undecodable marks the connection as one the tap cannot follow.
func (c *conn) undecodable(err error) {
	if c.dead {
		return
	}
	c.dead = true
	c.t.event(c.id, EventUndecodable, "", fmt.Errorf("tap %q: connection %d: %w", c.t.cfg.Name, c.id, err))
}

// txnFor applies a response cycle's before/after transaction status and
// returns the InTxn and TxnID of the statements it completed.
func (c *conn) txnFor(after bool) (bool, int) {
	before := c.inTxn
	c.inTxn = after
	switch {
	case before:
		return true, c.txn
	case after:
		c.txn++
		return true, c.txn
	}
	return false, 0
}

// finish records a completed statement and reports whether the Cut fires
// after it.
func (c *conn) finish(s Statement) bool {
	c.seq++
	s.ConnID, s.Seq = c.id, c.seq
	if c.t.cfg.Recorder != nil {
		c.t.cfg.Recorder.addStatement(s)
	}
	a := c.t.cut.Load()
	if a == nil {
		return false
	}
	if c.ccOf != a {
		c.cc, c.ccOf = cutCounter{}, a
	}
	if !a.cut.complete(&c.cc, &s, func() bool { return a.fired.CompareAndSwap(false, true) }) {
		return false
	}
	c.t.event(c.id, EventCut, fmt.Sprintf("after statement %d (txn %d): %s", s.Seq, s.TxnID, s.Text), nil)
	return true
}

var errShort = errors.New("message shorter than its fields")
