package tap

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRecorderBoundedAndWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := NewRecorder(3)
	for i := range 5 {
		r.addStatement(Statement{Seq: i + 1, Start: at(10 * i), End: at(10*i + 5)})
	}
	var seqs []int
	for _, s := range r.Statements() {
		seqs = append(seqs, s.Seq)
	}
	if fmt.Sprint(seqs) != "[3 4 5]" || r.Dropped() != 2 {
		t.Fatalf("kept %v dropped %d, want [3 4 5] and 2", seqs, r.Dropped())
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{name: "whole", from: at(0), to: at(100), want: "[3 4 5]"},
		{name: "one exactly", from: at(30), to: at(35), want: "[4]"},
		{name: "ends after the window", from: at(30), to: at(34), want: "[]"},
		{name: "started before the window", from: at(31), to: at(100), want: "[5]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, s := range r.Window(tc.from, tc.to) {
				got = append(got, s.Seq)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("window %v, want %s", got, tc.want)
			}
		})
	}
	r.Reset()
	if len(r.Statements()) != 0 || r.Dropped() != 0 {
		t.Error("Reset kept statements")
	}
}

func TestCutCounts(t *testing.T) {
	ins := regexp.MustCompile(`^INSERT`)
	type st struct {
		text  string
		txnID int
	}
	tests := []struct {
		name  string
		cut   Cut
		stmts []st
		fires string // index of the statements after which it fires
	}{
		{name: "2nd of connection", cut: Cut{After: 2}, stmts: []st{{"SELECT", 0}, {"INSERT", 0}, {"INSERT", 0}}, fires: "[1]"},
		{name: "1st INSERT of each txn, once", cut: Cut{After: 1, Match: ins, Scope: PerTxn},
			stmts: []st{{"BEGIN", 1}, {"INSERT", 1}, {"INSERT", 1}, {"BEGIN", 2}, {"INSERT", 2}}, fires: "[1]"},
		{name: "1st INSERT of each txn, every time", cut: Cut{After: 1, Match: ins, Scope: PerTxn, Every: true},
			stmts: []st{{"BEGIN", 1}, {"INSERT", 1}, {"INSERT", 1}, {"BEGIN", 2}, {"INSERT", 2}}, fires: "[1 4]"},
		{name: "txn scope ignores autocommit", cut: Cut{After: 1, Scope: PerTxn}, stmts: []st{{"INSERT", 0}, {"INSERT", 3}}, fires: "[1]"},
		{name: "never reached", cut: Cut{After: 3, Match: ins}, stmts: []st{{"INSERT", 0}, {"SELECT", 0}, {"INSERT", 0}}, fires: "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cut.validate(); err != nil {
				t.Fatal(err)
			}
			var cc cutCounter
			fired := false
			once := func() bool {
				if fired {
					return false
				}
				fired = true
				return true
			}
			var got []int
			for i, s := range tc.stmts {
				stmt := Statement{Text: s.text, InTxn: s.txnID > 0, TxnID: s.txnID}
				if tc.cut.complete(&cc, &stmt, once) {
					got = append(got, i)
				}
			}
			if fmt.Sprint(got) != tc.fires && !(tc.fires == "[]" && got == nil) {
				t.Errorf("fired after %v, want %s", got, tc.fires)
			}
		})
	}
}

// TestFramerSplits feeds the same stream in chunks of every size and checks
// the messages seen do not depend on where reads split it.
func TestFramerSplits(t *testing.T) {
	var stream []byte
	want := []string{"Q:SELECT 1\x00", "D:" + strings.Repeat("r", 300), "Z:I", "X:"}
	for _, m := range want {
		typ, body := m[0], m[2:]
		stream = append(stream, typ)
		stream = binary.BigEndian.AppendUint32(stream, uint32(len(body)+4))
		stream = append(stream, body...)
	}
	for _, chunk := range []int{1, 2, 3, 5, 7, 64, len(stream)} {
		t.Run(fmt.Sprintf("chunks of %d", chunk), func(t *testing.T) {
			var got []string
			f := framer{hdrLen: 5,
				bodyLen: func(h []byte) int { return int(binary.BigEndian.Uint32(h[1:])) - 4 },
				keep:    func([]byte) int { return maxBody },
				msg: func(h, b []byte, full int) bool {
					got = append(got, string(h[0])+":"+string(b))
					return false
				}}
			for i := 0; i < len(stream); i += chunk {
				if cut := f.feed(stream[i:min(i+chunk, len(stream))]); cut != -1 {
					t.Fatalf("cut %d", cut)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("messages %q, want %q", got, want)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name string
		got  Param
		want string
	}{
		{name: "pg int4", got: pgBinary(23, []byte{0xff, 0xff, 0xff, 0xfe}), want: "-2"},
		{name: "pg int8", got: pgBinary(20, binary.BigEndian.AppendUint64(nil, 1<<40)), want: "1099511627776"},
		{name: "pg bool", got: pgBinary(16, []byte{1}), want: "true"},
		{name: "pg unknown oid is hex", got: pgBinary(2950, []byte{0xde, 0xad}), want: `\xdead`},
		{name: "mysql tiny signed", got: must(myValue(0x01, false, []byte{0xff})), want: "-1"},
		{name: "mysql tiny unsigned", got: must(myValue(0x01, true, []byte{0xff})), want: "255"},
		{name: "mysql longlong", got: must(myValue(0x08, false, binary.LittleEndian.AppendUint64(nil, 42))), want: "42"},
		{name: "mysql string", got: must(myValue(0xfd, false, []byte{3, 'a', 'b', 'c'})), want: "abc"},
		{name: "mysql date", got: must(myValue(0x0a, false, []byte{4, 0xea, 0x07, 12, 5})), want: "2026-12-05"},
		{name: "mysql binary bytes are hex", got: must(myValue(0xfc, false, []byte{2, 0xff, 0xfe})), want: `\xfffe`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got.String() != tc.want {
				t.Errorf("%s, want %s", tc.got, tc.want)
			}
		})
	}
}

func must(p Param, _ int, ok bool) Param {
	if !ok {
		return Param{Text: "(not decoded)"}
	}
	return p
}

func TestStartRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "non-loopback listen", cfg: Config{Listen: "0.0.0.0:0", Upstream: "127.0.0.1:5432"}, want: "not a loopback IP"},
		{name: "non-loopback upstream", cfg: Config{Upstream: "10.1.2.3:5432"}, want: "not a loopback IP"},
		{name: "recording needs a protocol", cfg: Config{Upstream: "127.0.0.1:5432", Recorder: NewRecorder(1)}, want: "want Postgres or MySQL"},
		{name: "cut after 0", cfg: Config{Upstream: "127.0.0.1:5432", Protocol: Postgres, Cut: &Cut{}}, want: "Cut.After is 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := Start(context.Background(), tc.cfg)
			if err == nil {
				tp.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
