package invariants

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
)

// counts is ok, fail, unknown.
type counts [3]int

// newTally builds a tally with the given outcome counts per operation.
func newTally(byOp map[string]counts) *history.Tally {
	t := history.NewTally()
	for op, c := range byOp {
		for i, o := range []history.Outcome{history.OK, history.Fail, history.Unknown} {
			for range c[i] {
				t.Add(&history.Op{Op: op, Outcome: o})
			}
		}
	}
	return t
}

// t0 is the start of every test history.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// hop builds a history op: invoked at ms after t0, completed took ms later.
// ok answers 200, fail 409, unknown has no status and a timeout error.
func hop(id uint64, name, key string, out history.Outcome, at, took int) hOp {
	o := history.Op{ID: id, Op: name, Key: key, Worker: int(id), Outcome: out, Sent: true,
		Invoke: t0.Add(time.Duration(at) * time.Millisecond), Complete: t0.Add(time.Duration(at+took) * time.Millisecond)}
	switch out {
	case history.OK:
		o.Status = 200
	case history.Fail:
		o.Status = 409
	default:
		o.Error = "context deadline exceeded"
	}
	return hOp(o)
}

type hOp history.Op

// val adds a rendered request value.
func (o hOp) val(k, v string) hOp {
	m := map[string]string{}
	for a, b := range o.Values {
		m[a] = b
	}
	m[k] = v
	o.Values = m
	return o
}

// capt adds a captured response value.
func (o hOp) capt(k string, v any) hOp {
	m := map[string]any{}
	for a, b := range o.Captures {
		m[a] = b
	}
	m[k] = v
	o.Captures = m
	return o
}

func (o hOp) status(s int) hOp { o.Status = s; return o }

// writeHistory writes ops as a history file in dir and returns its path
// and tally; the ops go through JSON, as in a run.
func writeHistory(t testing.TB, dir string, ops []hOp) (string, *history.Tally) {
	t.Helper()
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		op := history.Op(ops[i])
		if err := w.Append(&op); err != nil {
			t.Fatal(err)
		}
	}
	tally := w.Tally()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tally
}
