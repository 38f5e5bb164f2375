package tap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// PostgreSQL request codes of the untyped first message.
const (
	pgSSLRequest    = 80877103
	pgGSSENCRequest = 80877104
	pgCancelRequest = 80877102
	pgMaxStartup    = 10000 // bytes; PostgreSQL's own limit
	pgMaxNames      = 4096  // prepared statements / portals remembered per connection
	pgMaxCycles     = 4096  // response cycles awaited per connection
)

// pgMaxMessage bounds a message's declared length (1 GiB, PostgreSQL's own
// limit for a field): a larger one means the stream is not PostgreSQL.
const pgMaxMessage = 1 << 30

// The message type bytes of protocol 3.0 after startup, by direction.
var pgFrontendTypes, pgBackendTypes = typeSet("BCcdDEfFHpPQSX"), typeSet("123AcCdDEGHIKnNRsStTvVWZ")

func typeSet(types string) (set [256]bool) {
	for i := range len(types) {
		set[types[i]] = true
	}
	return set
}

// pgFreeCycles bounds the answered cycles a connection keeps for reuse.
const pgFreeCycles = 8

// pgPortal is a bound portal: the statement text and parameter values an
// Execute of it runs.
type pgPortal struct {
	text   string
	params []Param
}

// pgStmt is a prepared statement the client parsed.
type pgStmt struct {
	text string
	oids []uint32
}

// pgCycle is what one ReadyForQuery answers: a simple Query, or the
// extended-protocol messages up to a Sync.
type pgCycle struct {
	simple bool
	stmts  []Statement
	// describe names the statements whose Describe awaits a
	// ParameterDescription in this cycle, in order.
	describe []string
	done     int // statements completed so far (extended)
	closed   bool
}

// pgDecoder follows one PostgreSQL connection.
type pgDecoder struct {
	c       *conn
	cf, sf  framer
	stmts   map[string]*pgStmt
	portals map[string]pgPortal // bound portal → what Execute runs
	cycles  []*pgCycle          // awaiting their ReadyForQuery, oldest first
	free    []*pgCycle          // answered cycles kept for reuse (at most pgFreeCycles)
	now     time.Time
}

func newPGDecoder(c *conn) *pgDecoder {
	d := &pgDecoder{c: c, stmts: map[string]*pgStmt{}, portals: map[string]pgPortal{}}
	typed := func(known *[256]bool) func(hdr []byte) int {
		return func(hdr []byte) int {
			n := int(binary.BigEndian.Uint32(hdr[1:5]))
			if !known[hdr[0]] || n < 4 || n > pgMaxMessage {
				return -1
			}
			return n - 4
		}
	}
	d.cf = framer{hdrLen: 5, bodyLen: typed(&pgFrontendTypes), msg: d.clientMsg, keep: func(h []byte) int {
		switch h[0] {
		case 'Q', 'P', 'B', 'E', 'C', 'D', 'S':
			return maxBody
		}
		return 0
	}}
	d.sf = framer{hdrLen: 5, bodyLen: typed(&pgBackendTypes), msg: d.serverMsg, keep: func(h []byte) int {
		switch h[0] {
		case 'C', 'E', 'Z', 't', 'A', 'G', 'H', 'W':
			return maxBody
		}
		return 0
	}}
	return d
}

// prelude handles the untyped first messages: it answers SSLRequest and
// GSSENCRequest with 'N' itself, refuses a direct TLS handshake, forwards a
// CancelRequest, and forwards and records the StartupMessage. A non-nil
// error ends the connection.
func (d *pgDecoder) prelude() error {
	c := d.c
	for range 3 { // at most SSLRequest, GSSENCRequest, then the startup message
		var hdr [8]byte
		if _, err := io.ReadFull(c.client, hdr[:1]); err != nil {
			return fmt.Errorf("read startup: %w", err)
		}
		if hdr[0] == 0x16 { // a TLS ClientHello: sslnegotiation=direct
			err := c.t.tlsError("client opened with a TLS handshake (sslnegotiation=direct)")
			c.t.event(c.id, EventTLSRefused, "direct TLS", err)
			return err
		}
		if _, err := io.ReadFull(c.client, hdr[1:]); err != nil {
			return fmt.Errorf("read startup: %w", err)
		}
		n := int(binary.BigEndian.Uint32(hdr[:4]))
		code := binary.BigEndian.Uint32(hdr[4:])
		switch {
		case code == pgSSLRequest || code == pgGSSENCRequest:
			what := "client sent SSLRequest; the tap answered 'N'"
			if code == pgGSSENCRequest {
				what = "client sent GSSENCRequest; the tap answered 'N'"
			}
			c.t.event(c.id, EventTLSRefused, what, c.t.tlsError(what))
			if _, err := c.client.Write([]byte{'N'}); err != nil {
				return fmt.Errorf("answer SSLRequest: %w", err)
			}
			continue
		case n < 8 || n > pgMaxStartup:
			c.undecodable(fmt.Errorf("startup message of %d bytes", n))
			_, err := c.server.Write(hdr[:])
			return err
		}
		msg := make([]byte, n)
		copy(msg, hdr[:])
		if _, err := io.ReadFull(c.client, msg[8:]); err != nil {
			return fmt.Errorf("read startup: %w", err)
		}
		if _, err := c.server.Write(msg); err != nil {
			return fmt.Errorf("forward startup: %w", err)
		}
		if code == pgCancelRequest {
			c.t.event(c.id, EventNote, "CancelRequest", nil)
			c.dead = true
			return nil
		}
		var sm pgproto3.StartupMessage
		if err := sm.Decode(msg[4:]); err != nil {
			c.undecodable(fmt.Errorf("startup message: %w", err))
			return nil
		}
		keys := make([]string, 0, len(sm.Parameters))
		for k := range sm.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", k, sm.Parameters[k])
		}
		c.t.event(c.id, EventConnect, b.String(), nil)
		return nil
	}
	c.undecodable(errors.New("more than two encryption requests before startup"))
	return nil
}

func (d *pgDecoder) client(p []byte, now time.Time) error {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil
	}
	d.now = now
	d.cf.feed(p)
	if d.cf.bad {
		c.undecodable(errors.New("a message that is not PostgreSQL (unknown type or length) from the client"))
	}
	return nil
}

func (d *pgDecoder) server(p []byte, now time.Time) int {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return -1
	}
	d.now = now
	cut := d.sf.feed(p)
	if d.sf.bad {
		c.undecodable(errors.New("a message that is not PostgreSQL (unknown type or length) from the server"))
	}
	return cut
}

// openCycle returns the extended-protocol cycle being built, starting one.
func (d *pgDecoder) openCycle() *pgCycle {
	if n := len(d.cycles); n > 0 && !d.cycles[n-1].simple && !d.cycles[n-1].closed {
		return d.cycles[n-1]
	}
	if len(d.cycles) >= pgMaxCycles {
		d.c.undecodable(errors.New("too many unanswered requests"))
		return &pgCycle{}
	}
	cy := d.newCycle()
	d.cycles = append(d.cycles, cy)
	return cy
}

// newCycle returns an empty cycle, reusing an answered one when it can.
func (d *pgDecoder) newCycle() *pgCycle {
	n := len(d.free)
	if n == 0 {
		return &pgCycle{}
	}
	cy := d.free[n-1]
	d.free = d.free[:n-1]
	*cy = pgCycle{stmts: cy.stmts[:0], describe: cy.describe[:0]}
	return cy
}

func (d *pgDecoder) clientMsg(hdr, body []byte, full int) bool {
	if full > maxBody && hdr[0] != 'Q' && d.cf.keep(hdr) > 0 {
		d.c.undecodable(fmt.Errorf("client message %q of %d bytes exceeds %d", hdr[0], full, maxBody))
		return false
	}
	var err error
	switch hdr[0] {
	case 'Q':
		var text string
		if len(body) < full {
			text = string(body) + "…(truncated)"
		} else {
			var m pgproto3.Query
			if err = m.Decode(body); err == nil {
				text = m.String
			}
		}
		if err == nil {
			if len(d.cycles) >= pgMaxCycles {
				d.c.undecodable(errors.New("too many unanswered queries"))
				return false
			}
			cy := d.newCycle()
			cy.simple, cy.closed = true, true
			cy.stmts = append(cy.stmts, Statement{Start: d.now, Text: text})
			d.cycles = append(d.cycles, cy)
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "LISTEN") {
				d.c.t.event(d.c.id, EventNote, "LISTEN: "+text, nil)
			}
		}
	case 'P':
		var m pgproto3.Parse
		if err = m.Decode(body); err == nil && (len(d.stmts) < pgMaxNames || d.stmts[m.Name] != nil) {
			d.stmts[m.Name] = &pgStmt{text: m.Query, oids: m.ParameterOIDs}
		}
	case 'B':
		var m pgproto3.Bind
		if err = m.Decode(body); err == nil {
			if _, known := d.portals[m.DestinationPortal]; known || len(d.portals) < pgMaxNames {
				st := d.stmts[m.PreparedStatement]
				p := pgPortal{params: pgParams(&m, st)}
				if st != nil {
					p.text = st.text
				} else {
					p.text = fmt.Sprintf("(unknown prepared statement %q)", m.PreparedStatement)
				}
				d.portals[m.DestinationPortal] = p
			}
		}
	case 'E':
		var m pgproto3.Execute
		if err = m.Decode(body); err == nil {
			s := Statement{Start: d.now}
			if p, ok := d.portals[m.Portal]; ok {
				s.Text, s.Params = p.text, p.params
			} else {
				s.Text = fmt.Sprintf("(unknown portal %q)", m.Portal)
			}
			cy := d.openCycle()
			cy.stmts = append(cy.stmts, s)
		}
	case 'D':
		var m pgproto3.Describe
		if err = m.Decode(body); err == nil && m.ObjectType == 'S' {
			if cy := d.openCycle(); len(cy.describe) < pgMaxNames {
				cy.describe = append(cy.describe, m.Name)
			}
		}
	case 'C':
		var m pgproto3.Close
		if err = m.Decode(body); err == nil {
			if m.ObjectType == 'S' {
				delete(d.stmts, m.Name)
			} else {
				delete(d.portals, m.Name)
			}
		}
	case 'S': // Sync: the cycle ends here, one ReadyForQuery answers it
		d.openCycle().closed = true
	}
	if err != nil {
		d.c.undecodable(fmt.Errorf("client message %q: %w", hdr[0], err))
	}
	return false
}

// pgParams renders a Bind's parameter values: text-format values as sent,
// binary ones decoded for common type OIDs when the statement's types are
// known, otherwise as hex.
func pgParams(m *pgproto3.Bind, st *pgStmt) []Param {
	out := make([]Param, len(m.Parameters))
	for i, v := range m.Parameters {
		if v == nil {
			out[i] = Param{Null: true}
			continue
		}
		format := int16(0)
		switch len(m.ParameterFormatCodes) {
		case 0:
		case 1:
			format = m.ParameterFormatCodes[0]
		default:
			if i < len(m.ParameterFormatCodes) {
				format = m.ParameterFormatCodes[i]
			}
		}
		if format == 0 {
			out[i] = Param{Text: string(v)}
			continue
		}
		var oid uint32
		if st != nil && i < len(st.oids) {
			oid = st.oids[i]
		}
		out[i] = pgBinary(oid, v)
	}
	return out
}

// pgBinary decodes a binary-format value of a common type.
func pgBinary(oid uint32, v []byte) Param {
	switch {
	case oid == 16 && len(v) == 1: // bool
		return Param{Text: strconv.FormatBool(v[0] != 0)}
	case oid == 21 && len(v) == 2: // int2
		return Param{Text: strconv.Itoa(int(int16(binary.BigEndian.Uint16(v))))}
	case oid == 23 && len(v) == 4: // int4
		return Param{Text: strconv.Itoa(int(int32(binary.BigEndian.Uint32(v))))}
	case oid == 20 && len(v) == 8: // int8
		return Param{Text: strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10)}
	case oid == 700 && len(v) == 4: // float4
		return Param{Text: strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 'g', -1, 32)}
	case oid == 701 && len(v) == 8: // float8
		return Param{Text: strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(v)), 'g', -1, 64)}
	case oid == 25 || oid == 1043 || oid == 1042 || oid == 19: // text, varchar, bpchar, name
		return Param{Text: string(v)}
	}
	return hexParam(v)
}

func (d *pgDecoder) serverMsg(hdr, body []byte, full int) bool {
	var err error
	switch hdr[0] {
	case 't': // ParameterDescription answers the oldest Describe of a statement
		var m pgproto3.ParameterDescription
		if err = m.Decode(body); err == nil && len(d.cycles) > 0 && len(d.cycles[0].describe) > 0 {
			cy := d.cycles[0]
			if st := d.stmts[cy.describe[0]]; st != nil {
				st.oids = m.ParameterOIDs
			}
			cy.describe = cy.describe[1:]
		}
	case 'C', 'I', 's', 'E': // CommandComplete, EmptyQueryResponse, PortalSuspended, ErrorResponse
		var tag, msg string
		switch hdr[0] {
		case 'C':
			var m pgproto3.CommandComplete
			if err = m.Decode(body); err == nil {
				tag = string(m.CommandTag)
			}
		case 'I':
			tag = "EMPTY"
		case 's':
			tag = "SUSPENDED"
		case 'E':
			var m pgproto3.ErrorResponse
			if err = m.Decode(body); err == nil {
				msg = m.Code + ": " + m.Message
			}
		}
		if err == nil {
			d.complete(tag, msg)
		}
	case 'Z':
		var m pgproto3.ReadyForQuery
		if err = m.Decode(body); err == nil {
			return d.ready(m.TxStatus)
		}
	case 'A':
		var m pgproto3.NotificationResponse
		if err = m.Decode(body); err == nil {
			d.c.t.event(d.c.id, EventNote, fmt.Sprintf("NOTIFY %s from pid %d: %d bytes", m.Channel, m.PID, len(m.Payload)), nil)
		}
	case 'G', 'H', 'W':
		d.c.t.event(d.c.id, EventNote, map[byte]string{'G': "COPY IN", 'H': "COPY OUT", 'W': "COPY BOTH"}[hdr[0]]+" (passed through)", nil)
	}
	if err != nil {
		d.c.undecodable(fmt.Errorf("server message %q: %w", hdr[0], err))
	}
	return false
}

// complete attaches a completion (tag, or error text) to the statement the
// server is answering.
func (d *pgDecoder) complete(tag, errText string) {
	if len(d.cycles) == 0 { // startup: e.g. authentication failed, no such database
		if errText != "" {
			d.c.t.event(d.c.id, EventNote, "server error outside a statement: "+errText, nil)
		}
		return
	}
	cy := d.cycles[0]
	i := cy.done
	if cy.simple {
		i = 0
	}
	if i >= len(cy.stmts) {
		return // e.g. an error answering a Parse with no Execute
	}
	s := &cy.stmts[i]
	s.End = d.now
	if errText != "" {
		s.Err = errText
	} else {
		s.Tag = joinTag(s.Tag, tag)
	}
	if !cy.simple {
		cy.done++
		if errText != "" {
			cy.done = len(cy.stmts) // the rest up to Sync are skipped
			cy.stmts = cy.stmts[:i+1]
		}
	}
}

// ready ends the oldest cycle at a ReadyForQuery: its completed statements
// are recorded with the transaction status, and the Cut may fire.
func (d *pgDecoder) ready(status byte) bool {
	inTxn, txnID := d.c.txnFor(status == 'T' || status == 'E')
	if len(d.cycles) == 0 {
		return false // the ReadyForQuery that ends startup
	}
	cy := d.cycles[0]
	n := copy(d.cycles, d.cycles[1:]) // usually 0 or 1: keeps the slice from creeping
	d.cycles[n] = nil
	d.cycles = d.cycles[:n]
	cut := false
	for i := range cy.stmts {
		s := &cy.stmts[i]
		if s.End.IsZero() {
			continue // never ran: an earlier error skipped it
		}
		s.InTxn, s.TxnID = inTxn, txnID
		if d.c.finish(*s) {
			cut = true
		}
	}
	if len(d.free) < pgFreeCycles {
		clear(cy.stmts) // drop references to texts and params
		d.free = append(d.free, cy)
	}
	return cut
}
