package tap

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// MySQL capability and status flags the tap reads.
const (
	myClientProtocol41 = 0x00000200
	myClientSSL        = 0x00000800
	myDeprecateEOF     = 0x01000000
	myStatusInTrans    = 0x0001
	myStatusAutocommit = 0x0002
	myMoreResults      = 0x0008
	myMaxPayload       = 0xffffff
	myMaxGreeting      = 1024 // bytes; a real handshake packet is about 100
)

// MySQL command bytes.
const (
	comQuit         = 0x01
	comInitDB       = 0x02
	comQuery        = 0x03
	comPing         = 0x0e
	comStmtPrepare  = 0x16
	comStmtExecute  = 0x17
	comStmtSendLong = 0x18
	comStmtClose    = 0x19
	comStmtReset    = 0x1a
	comResetConn    = 0x1f
)

type myPhase int

const (
	myGreeting  myPhase = iota // the server's initial handshake
	myHandshake                // the client's handshake response
	myAuth                     // authentication exchange until OK or ERR
	myCommand                  // commands and their responses
)

// What the server's response to the current command is made of.
type myResp int

const (
	respNone    myResp = iota // no response expected (COM_QUIT, COM_STMT_CLOSE …) or unknown
	respSimple                // one OK or ERR packet
	respResult                // OK, ERR, or result sets (COM_QUERY, COM_STMT_EXECUTE)
	respPrepare               // COM_STMT_PREPARE: OK with the statement id, then definitions
)

// Result-set stage.
const (
	stFirst   = iota // OK, ERR, LOCAL INFILE or a column count
	stColumns        // column definitions, then EOF unless CLIENT_DEPRECATE_EOF
	stRows           // rows until EOF, OK (0xfe) or ERR
)

type myStmt struct {
	text    string
	nParams int
	types   []byte // 2 bytes per parameter, as last sent
}

// mysqlDecoder follows one MySQL/MariaDB connection.
type mysqlDecoder struct {
	c          *conn
	cf, sf     framer
	phase      myPhase
	serverCaps uint32
	caps       uint32 // negotiated
	cPrevMax   bool   // the client's previous packet was 16 MiB - 1: this one continues it
	sPrevMax   bool
	now        time.Time
	refuse     error // a TLS refusal met in the current client chunk

	stmts   map[uint32]*myStmt
	resp    myResp
	stage   int
	left    int        // definitions left in this stage
	eof     bool       // an EOF packet still ends the definitions
	cur     *Statement // the statement being answered (nil for commands not recorded)
	rows    int
	prepTxt string
	prepDef int // prepare: definitions left (params then columns), each block + EOF
}

func newMySQLDecoder(c *conn) *mysqlDecoder {
	d := &mysqlDecoder{c: c, stmts: map[uint32]*myStmt{}}
	length := func(h []byte) int { return int(h[0]) | int(h[1])<<8 | int(h[2])<<16 }
	d.cf = framer{hdrLen: 4, bodyLen: length, msg: d.clientPacket, keep: func([]byte) int { return maxBody }}
	// Of rows only the first bytes are kept: enough to tell EOF/OK/ERR from data.
	d.sf = framer{hdrLen: 4, bodyLen: func(h []byte) int {
		n := length(h)
		if d.phase == myGreeting && (h[3] != 0 || n > myMaxGreeting) {
			return -1 // not a MySQL server's first packet
		}
		return n
	}, msg: d.serverMsg, keep: func([]byte) int {
		if d.phase == myCommand && d.resp == respResult && d.stage == stRows {
			return 32
		}
		return maxBody
	}}
	return d
}

func (d *mysqlDecoder) client(p []byte, now time.Time) error {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil
	}
	if d.phase == myGreeting {
		c.undecodable(errors.New("the client spoke before the server's handshake"))
		return nil
	}
	d.now = now
	d.refuse = nil
	d.cf.feed(p)
	if d.cf.bad {
		c.undecodable(errors.New("bad packet from the client"))
	}
	return d.refuse
}

func (d *mysqlDecoder) clientPacket(hdr, body []byte, full int) bool {
	if err := d.clientMsg(hdr, body, full); err != nil {
		d.refuse = err
		return true
	}
	return false
}

func (d *mysqlDecoder) server(p []byte, now time.Time) int {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return -1
	}
	d.now = now
	cut := d.sf.feed(p)
	if d.sf.bad {
		c.undecodable(errors.New("bad packet from the server: not MySQL?"))
	}
	return cut
}

func (d *mysqlDecoder) clientMsg(hdr, body []byte, full int) error {
	cont := d.cPrevMax
	d.cPrevMax = full == myMaxPayload
	if cont {
		return nil
	}
	switch d.phase {
	case myGreeting:
		d.c.undecodable(errors.New("client spoke before the server's handshake"))
	case myHandshake:
		if len(body) < 4 {
			d.c.undecodable(errors.New("short handshake response"))
			return nil
		}
		caps := binary.LittleEndian.Uint32(body)
		if caps&myClientProtocol41 == 0 {
			d.c.undecodable(errors.New("pre-4.1 handshake response"))
			return nil
		}
		if caps&myClientSSL != 0 {
			return d.c.t.tlsError("client asked for TLS (CLIENT_SSL in its handshake response); the tap closed the connection")
		}
		d.caps = caps & d.serverCaps
		d.phase = myAuth
	case myAuth: // auth switch responses and the like
	case myCommand:
		if hdr[3] != 0 || len(body) == 0 {
			return nil
		}
		d.command(body, full)
	}
	return nil
}

// command starts a new command: the previous response is over.
func (d *mysqlDecoder) command(body []byte, full int) {
	d.cur, d.stage, d.rows, d.resp = nil, stFirst, 0, respNone
	text := func() string {
		if len(body)-1 < full-1 {
			return string(body[1:]) + "…(truncated)"
		}
		return string(body[1:])
	}
	switch body[0] {
	case comQuery:
		d.cur = &Statement{Start: d.now, Text: text()}
		d.resp = respResult
	case comStmtPrepare:
		d.prepTxt = text()
		d.resp = respPrepare
	case comStmtExecute:
		d.resp = respResult
		if len(body) < 10 {
			d.c.undecodable(errShort)
			return
		}
		id := binary.LittleEndian.Uint32(body[1:])
		s := &Statement{Start: d.now, Text: fmt.Sprintf("(unknown statement id %d)", id)}
		if st := d.stmts[id]; st != nil {
			s.Text = st.text
			s.Params = myParams(st, body[10:])
		}
		d.cur = s
	case comStmtClose:
		if len(body) >= 5 {
			delete(d.stmts, binary.LittleEndian.Uint32(body[1:]))
		}
	case comQuit:
		d.c.t.event(d.c.id, EventNote, "COM_QUIT", nil)
	case comStmtSendLong:
		d.c.t.event(d.c.id, EventNote, "COM_STMT_SEND_LONG_DATA: parameter value not recorded", nil)
	case comPing, comInitDB, comStmtReset, comResetConn:
		d.resp = respSimple
	default:
		d.c.t.event(d.c.id, EventNote, fmt.Sprintf("command 0x%02x passed through, not decoded", body[0]), nil)
	}
}

func (d *mysqlDecoder) serverMsg(hdr, body []byte, full int) bool {
	cont := d.sPrevMax
	d.sPrevMax = full == myMaxPayload
	if cont || len(body) == 0 {
		return false
	}
	switch d.phase {
	case myGreeting:
		if body[0] == 0xff {
			return false // the server refused the connection
		}
		if body[0] != 10 {
			d.c.undecodable(fmt.Errorf("handshake protocol version %d, want 10", body[0]))
			return false
		}
		i := 1
		for i < len(body) && body[i] != 0 { // server version, NUL-terminated
			i++
		}
		i += 1 + 4 + 8 + 1 // NUL, connection id, auth data part 1, filler
		if i+2 > len(body) {
			d.c.undecodable(errShort)
			return false
		}
		d.serverCaps = uint32(binary.LittleEndian.Uint16(body[i:]))
		if i+7 <= len(body) {
			d.serverCaps |= uint32(binary.LittleEndian.Uint16(body[i+5:])) << 16
		}
		d.phase = myHandshake
		d.c.t.event(d.c.id, EventConnect, "server "+string(body[1:min(len(body), 1+indexNUL(body[1:]))]), nil)
	case myAuth:
		switch body[0] {
		case 0x00:
			d.phase = myCommand
		case 0xff:
			d.c.t.event(d.c.id, EventNote, "authentication failed: "+myErr(body), nil)
		}
	case myCommand:
		return d.response(body, full)
	}
	return false
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// response follows the server's answer to the current command and reports
// whether the Cut fires after this packet.
func (d *mysqlDecoder) response(body []byte, full int) bool {
	switch d.resp {
	case respNone:
		return false
	case respSimple:
		d.resp = respNone
		return false
	case respPrepare:
		return d.prepare(body)
	}
	switch d.stage {
	case stFirst:
		switch body[0] {
		case 0x00:
			return d.end(body, full, false)
		case 0xff:
			return d.fail(body)
		case 0xfb:
			d.c.t.event(d.c.id, EventNote, "LOCAL INFILE passed through", nil)
			return false
		}
		n, used, ok := lenenc(body)
		if !ok {
			d.c.undecodable(errShort)
			return false
		}
		d.stage, d.left, d.eof = stColumns, int(n), d.caps&myDeprecateEOF == 0
		if used < len(body) && body[used] == 0 {
			// MariaDB metadata caching (MARIADB_CLIENT_CACHE_METADATA): a
			// trailing "metadata follows" byte of 0 means rows come next.
			d.stage = stRows
		}
	case stColumns:
		if d.left > 0 {
			d.left--
		} else if d.eof && isEOF(body, full) {
			d.stage = stRows
		}
		if d.left == 0 && !d.eof {
			d.stage = stRows
		}
	case stRows:
		switch {
		case body[0] == 0xff:
			return d.fail(body)
		case isEOF(body, full) || (body[0] == 0xfe && d.caps&myDeprecateEOF != 0 && full < myMaxPayload):
			return d.end(body, full, true)
		default:
			d.rows++
		}
	}
	return false
}

func isEOF(b []byte, full int) bool { return b[0] == 0xfe && full < 9 }

// prepare follows a COM_STMT_PREPARE response and remembers the statement id.
func (d *mysqlDecoder) prepare(body []byte) bool {
	if d.stage == stFirst {
		d.stage = stColumns
		switch {
		case body[0] == 0xff:
			d.resp = respNone
		case body[0] == 0x00 && len(body) >= 9:
			id := binary.LittleEndian.Uint32(body[1:])
			cols := int(binary.LittleEndian.Uint16(body[5:]))
			params := int(binary.LittleEndian.Uint16(body[7:]))
			if len(d.stmts) < pgMaxNames {
				d.stmts[id] = &myStmt{text: d.prepTxt, nParams: params}
			}
			per := 0
			if d.caps&myDeprecateEOF == 0 {
				per = 1
			}
			d.prepDef = 0
			if params > 0 {
				d.prepDef += params + per
			}
			if cols > 0 {
				d.prepDef += cols + per
			}
			if d.prepDef == 0 {
				d.resp = respNone
			}
		default:
			d.c.undecodable(errors.New("malformed COM_STMT_PREPARE response"))
		}
		return false
	}
	if d.prepDef--; d.prepDef <= 0 {
		d.resp = respNone
	}
	return false
}

// end completes the current statement with an OK or EOF packet.
func (d *mysqlDecoder) end(body []byte, full int, afterRows bool) bool {
	var status uint16
	tag := fmt.Sprintf("rows %d", d.rows)
	if isEOF(body, full) {
		if len(body) >= 5 {
			status = binary.LittleEndian.Uint16(body[3:])
		}
	} else {
		affected, n1, ok1 := lenenc(body[1:])
		_, n2, ok2 := lenenc(body[1+n1:])
		if p := 1 + n1 + n2; ok1 && ok2 && p+2 <= len(body) {
			status = binary.LittleEndian.Uint16(body[p:])
		}
		if !afterRows {
			tag = "OK " + strconv.FormatUint(affected, 10)
		}
	}
	if d.cur != nil {
		d.cur.Tag = joinTag(d.cur.Tag, tag)
	}
	if status&myMoreResults != 0 {
		d.stage, d.rows = stFirst, 0
		return false
	}
	return d.done(status&myStatusInTrans != 0)
}

func (d *mysqlDecoder) fail(body []byte) bool {
	if d.cur != nil {
		d.cur.Err = myErr(body)
	}
	return d.done(d.c.inTxn) // an ERR packet carries no status: assume it unchanged
}

// done records the current statement.
func (d *mysqlDecoder) done(inTxnAfter bool) bool {
	d.resp = respNone
	s := d.cur
	d.cur = nil
	inTxn, txnID := d.c.txnFor(inTxnAfter)
	if s == nil {
		return false
	}
	s.End, s.InTxn, s.TxnID = d.now, inTxn, txnID
	return d.c.finish(*s)
}

// myErr renders an ERR packet as "code (SQLSTATE): message".
func myErr(b []byte) string {
	if len(b) < 3 {
		return "malformed ERR packet"
	}
	code := binary.LittleEndian.Uint16(b[1:])
	rest := b[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		return fmt.Sprintf("%d (%s): %s", code, rest[1:6], rest[6:])
	}
	return fmt.Sprintf("%d: %s", code, rest)
}

// lenenc reads a length-encoded integer: value, bytes used, ok.
func lenenc(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 0xfc:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3, true
	case 0xfd:
		if len(b) < 4 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case 0xfe:
		if len(b) < 9 {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(b[1:]), 9, true
	case 0xfb, 0xff:
		return 0, 1, false
	}
	return uint64(b[0]), 1, true
}

// myParams decodes the parameter block of a COM_STMT_EXECUTE (after stmt
// id, flags and iteration count). Values of types it does not know, and all
// after them, are kept as hex.
func myParams(st *myStmt, b []byte) []Param {
	n := st.nParams
	if n == 0 {
		return nil
	}
	nb := (n + 7) / 8
	if len(b) < nb+1 {
		return []Param{hexParam(b)}
	}
	nulls, b := b[:nb], b[nb:]
	bound := b[0]
	b = b[1:]
	if bound == 1 {
		if len(b) < 2*n {
			return []Param{hexParam(b)}
		}
		st.types = append(st.types[:0], b[:2*n]...)
		b = b[2*n:]
	}
	out := make([]Param, 0, n)
	for i := range n {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			out = append(out, Param{Null: true})
			continue
		}
		if len(st.types) < 2*n {
			return append(out, hexParam(b))
		}
		p, used, ok := myValue(st.types[2*i], st.types[2*i+1]&0x80 != 0, b)
		if !ok {
			return append(out, hexParam(b))
		}
		out = append(out, p)
		b = b[used:]
	}
	return out
}

// myValue decodes one binary-protocol value: the Param, bytes used, ok.
func myValue(typ byte, unsigned bool, b []byte) (Param, int, bool) {
	fixed := map[byte]int{0x01: 1, 0x02: 2, 0x0d: 2, 0x03: 4, 0x09: 4, 0x08: 8, 0x04: 4, 0x05: 8, 0x06: 0}
	if size, ok := fixed[typ]; ok {
		if len(b) < size {
			return Param{}, 0, false
		}
		var u uint64
		for i := size - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		var text string
		switch {
		case typ == 0x06:
			return Param{Null: true}, 0, true
		case typ == 0x04:
			text = strconv.FormatFloat(float64(math.Float32frombits(uint32(u))), 'g', -1, 32)
		case typ == 0x05:
			text = strconv.FormatFloat(math.Float64frombits(u), 'g', -1, 64)
		case unsigned:
			text = strconv.FormatUint(u, 10)
		default: // sign-extend
			shift := 64 - 8*size
			text = strconv.FormatInt(int64(u<<shift)>>shift, 10)
		}
		return Param{Text: text}, size, true
	}
	switch typ {
	case 0x07, 0x0a, 0x0c: // TIMESTAMP, DATE, DATETIME
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return Param{}, 0, false
		}
		n := int(b[0])
		v := b[1 : 1+n]
		var y, mo, da, h, mi, s, us int
		if n >= 4 {
			y, mo, da = int(binary.LittleEndian.Uint16(v)), int(v[2]), int(v[3])
		}
		if n >= 7 {
			h, mi, s = int(v[4]), int(v[5]), int(v[6])
		}
		if n >= 11 {
			us = int(binary.LittleEndian.Uint32(v[7:]))
		}
		text := fmt.Sprintf("%04d-%02d-%02d", y, mo, da)
		if typ != 0x0a {
			text += fmt.Sprintf(" %02d:%02d:%02d", h, mi, s)
			if us != 0 {
				text += fmt.Sprintf(".%06d", us)
			}
		}
		return Param{Text: text}, 1 + n, true
	case 0x0b: // TIME
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return Param{}, 0, false
		}
		n := int(b[0])
		v := b[1 : 1+n]
		text := "00:00:00"
		if n >= 8 {
			sign := ""
			if v[0] == 1 {
				sign = "-"
			}
			days := int(binary.LittleEndian.Uint32(v[1:]))
			text = fmt.Sprintf("%s%02d:%02d:%02d", sign, days*24+int(v[5]), v[6], v[7])
			if n >= 12 {
				text += fmt.Sprintf(".%06d", binary.LittleEndian.Uint32(v[8:]))
			}
		}
		return Param{Text: text}, 1 + n, true
	case 0x00, 0x0f, 0x10, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe:
		l, used, ok := lenenc(b)
		if !ok || uint64(len(b)-used) < l {
			return Param{}, 0, false
		}
		v := b[used : used+int(l)]
		if utf8.Valid(v) {
			return Param{Text: string(v)}, used + int(l), true
		}
		return Param{Text: hex.EncodeToString(v), Hex: true}, used + int(l), true
	}
	return Param{}, 0, false
}
