package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// The history is read back by every checker and by the report, up to a
// million lines a run: decoding each with encoding/json (8-10 us, 15
// allocations a line) made the read the slowest part of a check. This
// decoder parses the lines Writer writes (no escapes in strings, the known
// fields) directly and hands anything else — an escape, an unknown or
// differently cased key, captures, a malformed line — to encoding/json, so
// results and error texts are always exactly json.Unmarshal's
// (TestDecodeMatchesEncodingJSON, FuzzDecode).

var errFallback = errors.New("fallback")

// opDecoder decodes history lines, sharing the strings that repeat from
// line to line (op names, keys, value names) instead of allocating each.
type opDecoder struct {
	intern map[string]string
	// skipTimes leaves Invoke and Complete zero, for passes that do not
	// read them: the values must still be JSON strings, but are not parsed
	// as times (a line that falls back to encoding/json gets them anyway).
	skipTimes bool
}

func (d *opDecoder) decode(line []byte, op *Op) error {
	*op = Op{}
	if err := d.fast(line, op); err == nil {
		return nil
	}
	*op = Op{}
	return json.Unmarshal(line, op)
}

// str returns b as a string, shared with earlier equal ones (at most 4096
// distinct strings of up to 64 bytes are kept).
func (d *opDecoder) str(b []byte) string {
	if len(b) > 64 {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if d.intern == nil {
		d.intern = make(map[string]string)
	}
	if len(d.intern) < 4096 {
		d.intern[s] = s
	}
	return s
}

type scan struct {
	b []byte
	i int
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scan) byte(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string without escapes (else errFallback), valid UTF-8.
func (s *scan) str() ([]byte, error) {
	if !s.byte('"') {
		return nil, errFallback
	}
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return nil, errFallback
			}
			return v, nil
		case c == '\\' || c < 0x20:
			return nil, errFallback
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, errFallback
}

// num reads a number literal's bytes.
func (s *scan) num() []byte {
	s.ws()
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	return s.b[start:s.i]
}

// jsonInt reports whether b is a JSON integer literal: -?(0|[1-9][0-9]*).
func jsonInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *scan) int() (int64, error) {
	n := s.num()
	if !jsonInt(n) {
		return 0, errFallback
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, errFallback
	}
	return v, nil
}

func (s *scan) uint() (uint64, error) {
	n := s.num()
	if !jsonInt(n) {
		return 0, errFallback
	}
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, errFallback
	}
	return v, nil
}

func (s *scan) time(t *time.Time) error {
	s.ws()
	start := s.i
	if _, err := s.str(); err != nil {
		return err
	}
	if err := t.UnmarshalJSON(s.b[start:s.i]); err != nil {
		return errFallback
	}
	return nil
}

func (d *opDecoder) fast(line []byte, op *Op) error {
	s := &scan{b: line}
	if !s.byte('{') {
		return errFallback
	}
	if s.byte('}') {
		return s.end()
	}
	for {
		k, err := s.str()
		if err != nil || !s.byte(':') {
			return errFallback
		}
		switch string(k) {
		case "id":
			op.ID, err = s.uint()
		case "op":
			var v []byte
			v, err = s.str()
			op.Op = d.str(v)
		case "key":
			var v []byte
			v, err = s.str()
			op.Key = d.str(v)
		case "worker":
			var v int64
			v, err = s.int()
			op.Worker = int(v)
		case "logical":
			op.Logical, err = s.uint()
		case "attempt":
			var v int64
			v, err = s.int()
			op.Attempt = int(v)
		case "invoke", "complete":
			if d.skipTimes {
				_, err = s.str()
			} else if k[0] == 'i' {
				err = s.time(&op.Invoke)
			} else {
				err = s.time(&op.Complete)
			}
		case "outcome":
			var v []byte
			v, err = s.str()
			switch string(v) {
			case string(OK):
				op.Outcome = OK
			case string(Fail):
				op.Outcome = Fail
			case string(Unknown):
				op.Outcome = Unknown
			default:
				op.Outcome = Outcome(v)
			}
		case "status":
			var v int64
			v, err = s.int()
			op.Status = int(v)
		case "sent":
			s.ws()
			switch {
			case bytes.HasPrefix(s.b[s.i:], []byte("true")):
				op.Sent, s.i = true, s.i+4
			case bytes.HasPrefix(s.b[s.i:], []byte("false")):
				op.Sent, s.i = false, s.i+5
			default:
				err = errFallback
			}
		case "error":
			var v []byte
			v, err = s.str()
			op.Error = string(v)
		case "values":
			err = s.values(d, op)
		default: // captures (any JSON), unknown keys: encoding/json's job
			return errFallback
		}
		if err != nil {
			return errFallback
		}
		if s.byte(',') {
			continue
		}
		if s.byte('}') {
			return s.end()
		}
		return errFallback
	}
}

func (s *scan) values(d *opDecoder, op *Op) error {
	if !s.byte('{') {
		return errFallback
	}
	if op.Values == nil {
		op.Values = make(map[string]string, 2)
	}
	if s.byte('}') {
		return nil
	}
	for {
		k, err := s.str()
		if err != nil || !s.byte(':') {
			return errFallback
		}
		v, err := s.str()
		if err != nil {
			return errFallback
		}
		op.Values[d.str(k)] = string(v)
		if s.byte(',') {
			continue
		}
		if s.byte('}') {
			return nil
		}
		return errFallback
	}
}

func (s *scan) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errFallback
	}
	return nil
}
