package history

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"
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
