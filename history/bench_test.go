package history

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// benchOp is a typical op of a plain attack: what attacks records per
// response.
func benchOp() *Op {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 123456789, time.UTC)
	return &Op{ID: 123456, Op: "incr", Key: "key-7", Worker: 17, Invoke: t0, Complete: t0.Add(1234567 * time.Nanosecond),
		Outcome: OK, Status: 200, Sent: true, Values: map[string]string{"seq": "123455"}}
}

// BenchmarkAppendParallel is Append from many goroutines, as attacks calls
// it: the encoding happens under the writer's lock.
func BenchmarkAppendParallel(b *testing.B) {
	w := NewWriter(io.Discard)
	op := benchOp()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Append(op); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEncodeOp compares encoding/json (what Writer uses) with
// appendOpJSON, a hand-written encoder of the same bytes (below, proposed
// for writer.go).
func BenchmarkEncodeOp(b *testing.B) {
	op := benchOp()
	b.Run("encoding_json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = appendOpJSON(buf[:0], op); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReaderNext decodes one history line, as checkers that read the
// history (counter with value_from, linearizable …) do per op.
func BenchmarkReaderNext(b *testing.B) {
	line, err := json.Marshal(benchOp())
	if err != nil {
		b.Fatal(err)
	}
	const lines = 4096
	data := bytes.Repeat(append(line, '\n'), lines)
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	var r *Reader
	n := 0
	for b.Loop() {
		if n%lines == 0 {
			r = NewReader(bytes.NewReader(data))
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// TestAppendOpJSONMatchesEncodingJSON holds the proposed encoder to
// encoding/json's exact bytes.
func TestAppendOpJSONMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 120000000, time.FixedZone("x", 3600))
	ops := []*Op{
		benchOp(),
		{},
		{ID: 1, Op: `we<i>rd "op" & \ name`, Key: "ключ\u2028\x01", Worker: -3, Logical: 9, Attempt: 2, Invoke: t0, Complete: t0,
			Outcome: Unknown, Sent: true, Error: "Get \"http://127.0.0.1:1/x\": dial tcp: connection refused\n\xff",
			Values:   map[string]string{"uuid": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "seq": "0", "a<b": "\t"},
			Captures: map[string]any{"id": int64(5), "f": 1.5, "s": "x", "n": nil, "l": []any{1.0, "y"}}},
		{ID: 2, Op: "o", Invoke: time.Unix(0, 5).UTC(), Complete: time.Unix(1, 0).In(time.FixedZone("y", -5*3600-1800)), Outcome: Fail, Status: 409},
	}
	for i, op := range ops {
		want, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendOpJSON(nil, op)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("op %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// appendOpJSON appends op's JSON line — byte for byte what json.Encoder
// writes for it, newline included — without reflection. Captures (rare, and
// of any type) still go through encoding/json.
func appendOpJSON(b []byte, op *Op) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, op.ID, 10)
	b = append(b, `,"op":`...)
	b = appendString(b, op.Op)
	if op.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, op.Key)
	}
	b = append(b, `,"worker":`...)
	b = strconv.AppendInt(b, int64(op.Worker), 10)
	if op.Logical != 0 {
		b = append(b, `,"logical":`...)
		b = strconv.AppendUint(b, op.Logical, 10)
	}
	if op.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(op.Attempt), 10)
	}
	var err error
	b = append(b, `,"invoke":`...)
	if b, err = appendTime(b, op.Invoke); err != nil {
		return b, err
	}
	b = append(b, `,"complete":`...)
	if b, err = appendTime(b, op.Complete); err != nil {
		return b, err
	}
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(op.Outcome))
	if op.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(op.Status), 10)
	}
	b = append(b, `,"sent":`...)
	b = strconv.AppendBool(b, op.Sent)
	if op.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, op.Error)
	}
	if len(op.Values) > 0 {
		b = append(b, `,"values":{`...)
		if len(op.Values) == 1 {
			for k, v := range op.Values {
				b = appendString(b, k)
				b = append(b, ':')
				b = appendString(b, v)
			}
		} else {
			keys := make([]string, 0, len(op.Values))
			for k := range op.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ':')
				b = appendString(b, op.Values[k])
			}
		}
		b = append(b, '}')
	}
	if len(op.Captures) > 0 {
		c, err := json.Marshal(op.Captures)
		if err != nil {
			return b, err
		}
		b = append(b, `,"captures":`...)
		b = append(b, c...)
	}
	return append(b, '}', '\n'), nil
}

// appendTime is time.Time.MarshalJSON: RFC 3339 with nanoseconds, quoted.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		_, err := t.MarshalJSON() // the same error encoding/json reports
		return b, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString quotes s as encoding/json does (HTML-escaped). Plain
// printable ASCII is copied; anything else takes encoding/json's path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
