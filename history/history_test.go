package history

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestWriterReaderRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 123456789, time.UTC)
	want := []Op{
		{ID: 1, Op: "incr", Invoke: t0, Complete: t0.Add(time.Millisecond), Outcome: OK, Status: 200, Sent: true},
		{ID: 2, Op: "incr", Key: "key-3", Invoke: t0, Complete: t0.Add(5 * time.Second), Outcome: Unknown, Sent: true, Error: "timeout"},
		{ID: 3, Op: "create", Invoke: t0, Complete: t0, Outcome: Fail, Error: "connection refused", Values: map[string]string{"seq": "0"}},
	}
	for i := range want {
		if err := w.Append(&want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Tally().Of("incr"); got != (Counts{OK: 1, Unknown: 1}) {
		t.Errorf("tally incr = %+v", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	got, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d ops, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Invoke.Equal(want[i].Invoke) || !got[i].Complete.Equal(want[i].Complete) ||
			got[i].Outcome != want[i].Outcome || got[i].ID != want[i].ID || got[i].Key != want[i].Key {
			t.Errorf("op %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if l := got[1].Latency(); l != 5*time.Second {
		t.Errorf("latency = %v", l)
	}
}

func TestReaderNamesBadLine(t *testing.T) {
	r := NewReader(bytes.NewBufferString("{\"id\":1,\"op\":\"a\",\"outcome\":\"ok\"}\n\nnot json\n"))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("line 3")) {
		t.Fatalf("want an error naming line 3, got %v", err)
	}
}

func TestReaderEOF(t *testing.T) {
	r := NewReader(bytes.NewBufferString(""))
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestParseOutcome(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{{"ok", false}, {"fail", false}, {"unknown", false}, {"OK", true}, {"", true}} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseOutcome(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseOutcome(%q) err = %v", tc.in, err)
			}
		})
	}
}

// TestWriterConcurrent hammers one Writer from many goroutines: every line
// must come back whole and the tally must match.
func TestWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 16, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				o := OK
				if i%3 == 0 {
					o = Unknown
				}
				op := &Op{ID: uint64(g*each + i), Op: fmt.Sprintf("op%d", g%2), Outcome: o, Invoke: time.Now(), Complete: time.Now()}
				if err := w.Append(op); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					_ = w.Tally()
					_ = w.Flush()
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tally := NewTally()
	seen := map[uint64]bool{}
	if err := Each(path, func(op *Op) error {
		if seen[op.ID] {
			return fmt.Errorf("id %d twice", op.ID)
		}
		seen[op.ID] = true
		tally.Add(op)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := tally.All().Total(); n != goroutines*each {
		t.Fatalf("read %d ops, want %d", n, goroutines*each)
	}
	if got, want := tally.All(), w.Tally().All(); got != want {
		t.Fatalf("tally from file %+v != writer tally %+v", got, want)
	}
}

func BenchmarkAppend(b *testing.B) {
	w := NewWriter(io.Discard)
	t0 := time.Now()
	op := &Op{ID: 1, Op: "incr", Key: "key-1", Invoke: t0, Complete: t0.Add(time.Millisecond), Outcome: OK, Status: 200, Sent: true,
		Values: map[string]string{"seq": "12345"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(op); err != nil {
			b.Fatal(err)
		}
	}
}
