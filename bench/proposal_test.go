package bench

// Prototypes of changes proposed for non-test code (docs/benchmarks.md,
// "Proposed changes"), measured here against what the code does today:
//
//   - decodeOp: a hand-written decoder of one history line for
//     history.Reader.Next, with encoding/json as the fallback for anything it
//     does not fully understand (so errors and edge cases stay identical);
//   - a streaming pass over the history for checkers that only aggregate
//     (counter with value_from), instead of readOps' slice of every op.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/report"
)

var errFallback = errors.New("fallback")

// decodeOp decodes one history line into op (which it resets), exactly as
// json.Unmarshal(line, op) does.
func decodeOp(line []byte, op *history.Op) error { return (&opDecoder{}).decode(line, op) }

// opDecoder decodes history lines, sharing the strings that repeat from
// line to line (op names, keys, value names) instead of allocating each.
type opDecoder struct {
	intern map[string]string
	// skipTimes leaves Invoke and Complete zero (their syntax is still
	// checked), for passes that do not read them.
	skipTimes bool
}

func (d *opDecoder) decode(line []byte, op *history.Op) error {
	*op = history.Op{}
	if err := d.fast(line, op); err == nil {
		return nil
	}
	*op = history.Op{}
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

func (d *opDecoder) fast(line []byte, op *history.Op) error {
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
			case string(history.OK):
				op.Outcome = history.OK
			case string(history.Fail):
				op.Outcome = history.Fail
			case string(history.Unknown):
				op.Outcome = history.Unknown
			default:
				op.Outcome = history.Outcome(v)
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

func (s *scan) values(d *opDecoder, op *history.Op) error {
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

func TestDecodeOpMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 120000000, time.FixedZone("", 3600))
	ops := []*history.Op{
		{ID: 123456, Op: "incr", Key: "key-7", Worker: 17, Invoke: t0, Complete: t0.Add(time.Millisecond), Outcome: history.OK, Status: 200, Sent: true,
			Values: map[string]string{"seq": "123455"}},
		{},
		{ID: 1, Op: `we<i>rd "op"`, Key: "ключ\u2028", Worker: -3, Logical: 9, Attempt: 2, Invoke: t0, Complete: t0, Outcome: history.Unknown,
			Error: "Get \"http://x/\": EOF", Values: map[string]string{"uuid": "6ba7b810", "seq": "0"}, Captures: map[string]any{"id": 5.0}},
		{ID: 2, Op: "o", Invoke: time.Unix(0, 5).UTC(), Outcome: history.Fail, Status: 409, Values: map[string]string{}},
	}
	var lines [][]byte
	for _, op := range ops {
		b, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	lines = append(lines, []byte(` { "op" : "a" , "id" : 3 , "sent" : true } `), []byte(`{"id":-1}`), []byte(`{"id":1,}`),
		[]byte(`{"invoke":"yesterday"}`), []byte(`{"key":"a\u00e9"}`), []byte("{\"key\":\"\xff\"}"), []byte(`{"id":1}x`),
		[]byte(`{"values":{"a":"1","a":"2"},"worker":1e3}`), []byte(`{"extra":1,"id":4}`), []byte(`{"id":null}`),
		[]byte(`{"status":01}`), []byte(`{"status":+1}`), []byte(`{"sent":truex}`), []byte(`{"id":1.0}`), []byte(`{"worker":-0}`))
	for _, line := range lines {
		var want, got history.Op
		wantErr := json.Unmarshal(line, &want)
		gotErr := decodeOp(line, &got)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Errorf("%s: error %v, want %v", line, gotErr, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Errorf("%s:\n got %+v\nwant %+v", line, got, want)
		}
	}
}

func BenchmarkDecodeOp(b *testing.B) {
	t0 := time.Now()
	line, err := json.Marshal(&history.Op{ID: 123456, Op: "incr", Key: "key-7", Worker: 17, Invoke: t0, Complete: t0.Add(time.Millisecond),
		Outcome: history.OK, Status: 200, Sent: true, Values: map[string]string{"seq": "123455"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var op history.Op
			if err := json.Unmarshal(line, &op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		b.ReportAllocs()
		var op history.Op
		var dec opDecoder
		for b.Loop() {
			if err := dec.decode(line, &op); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHistoryPass1M is the history half of a counter check with
// value_from over a one-million-op history: "readOps" is today's way (every
// matching op decoded with encoding/json into a slice, then each amount
// added as a big.Rat); "streaming" decodes each line with decodeOp into one
// reused Op and adds integral amounts in an int64 (big.Rat only for the
// rest), keeping nothing per op.
func BenchmarkHistoryPass1M(b *testing.B) {
	n := envInt("COLLIDE_BENCH_ROWS", 1_000_000)
	path := filepath.Join(b.TempDir(), "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := range n {
		if err := w.Append(&history.Op{ID: uint64(i + 1), Op: "insert", Worker: i % 32, Invoke: t0, Complete: t0.Add(time.Millisecond),
			Outcome: history.OK, Status: 201, Sent: true, Values: map[string]string{"seq": strconv.Itoa(i), "amount": "1"}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	want := big.NewRat(int64(n), 1)
	b.Run("readOps", func(b *testing.B) {
		runtime.GC()
		stop := heapPeak()
		defer func() { b.ReportMetric(stop(), "peak-heap-MB") }()
		for b.Loop() {
			var ops []*history.Op
			if err := history.Each(path, func(op *history.Op) error {
				if op.Op == "insert" {
					ops = append(ops, op)
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			sum := new(big.Rat)
			for _, op := range ops {
				a, ok := new(big.Rat).SetString(op.Values["amount"])
				if !ok {
					b.Fatal("amount")
				}
				sum.Add(sum, a)
			}
			if sum.Cmp(want) != 0 {
				b.Fatalf("sum %s", sum)
			}
		}
	})
	for _, skip := range []bool{false, true} {
		name := "streaming"
		if skip {
			name = "streaming_skip_times"
		}
		b.Run(name, func(b *testing.B) {
			runtime.GC()
			stop := heapPeak()
			defer func() { b.ReportMetric(stop(), "peak-heap-MB") }()
			for b.Loop() {
				if sum := streamSum(b, path, "insert", "amount", skip); sum.Cmp(want) != 0 {
					b.Fatalf("sum %s", sum)
				}
			}
		})
	}
}

// streamSum adds the value name of every op named op in the history at
// path, line by line, keeping nothing per op.
func streamSum(b *testing.B, path, opName, name string, skipTimes bool) *big.Rat {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var op history.Op
	dec := opDecoder{skipTimes: skipTimes}
	var isum int64
	rsum := new(big.Rat)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := dec.decode(sc.Bytes(), &op); err != nil {
			b.Fatal(err)
		}
		if op.Op != opName {
			continue
		}
		v := op.Values[name]
		// Integral amounts add up in an int64 while they safely fit.
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && i < 1<<40 && i > -(1<<40) && isum < 1<<62 && isum > -(1<<62) {
			isum += i
			continue
		}
		a, ok := new(big.Rat).SetString(v)
		if !ok {
			b.Fatalf("amount %q", v)
		}
		rsum.Add(rsum, a)
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return rsum.Add(rsum, big.NewRat(isum, 1))
}

// BenchmarkWriteVegetaResults is the pass harness.Run makes after the attack
// to write results.bin (vegeta's format) from history.jsonl: its cost per op
// is in every run's CPU, after the load (so not in its throughput).
func BenchmarkWriteVegetaResults(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := range n {
		if err := w.Append(&history.Op{ID: uint64(i + 1), Op: "get", Worker: i, Invoke: t0, Complete: t0.Add(time.Millisecond),
			Outcome: history.OK, Status: 200, Sent: true, Values: map[string]string{"seq": strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, report.VegetaFile)
	for b.Loop() {
		if err := report.WriteVegetaResults(path, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/history-op")
}
