package history

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// decodeOp decodes one line with a fresh decoder, as the first line of a
// Reader is.
func decodeOp(line []byte, op *Op) error { return (&opDecoder{}).decode(line, op) }

// TestDecodeMatchesEncodingJSON holds decodeOp to json.Unmarshal: the same
// Op, or the same error text, for Writer's lines and for hand-made edge
// cases that must fall back.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 120000000, time.FixedZone("", 3600))
	ops := []*Op{
		{ID: 123456, Op: "incr", Key: "key-7", Worker: 17, Invoke: t0, Complete: t0.Add(time.Millisecond), Outcome: OK, Status: 200, Sent: true,
			Values: map[string]string{"seq": "123455"}},
		{},
		{ID: 1, Op: `we<i>rd "op"`, Key: "ключ\u2028", Worker: -3, Logical: 9, Attempt: 2, Invoke: t0, Complete: t0, Outcome: Unknown,
			Error: "Get \"http://x/\": EOF", Values: map[string]string{"uuid": "6ba7b810", "seq": "0"}, Captures: map[string]any{"id": 5.0}},
		{ID: 2, Op: "o", Invoke: time.Unix(0, 5).UTC(), Outcome: Fail, Status: 409, Values: map[string]string{}},
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
		var want, got Op
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

// FuzzDecode: for any line, decodeOp gives exactly what json.Unmarshal
// gives — the same Op or the same error.
func FuzzDecode(f *testing.F) {
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 120000000, time.UTC)
	for _, op := range []*Op{
		{ID: 1, Op: "incr", Key: "k", Worker: 2, Invoke: t0, Complete: t0, Outcome: OK, Status: 200, Sent: true, Values: map[string]string{"seq": "0"}},
		{ID: 2, Op: "x", Logical: 1, Attempt: 2, Outcome: Unknown, Error: "EOF", Captures: map[string]any{"v": 1.0}},
	} {
		b, err := json.Marshal(op)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"ID":2}`))
	f.Add([]byte(`{"values":{"a":"\u00e9"},"sent":false}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var want, got Op
		wantErr := json.Unmarshal(line, &want)
		gotErr := decodeOp(line, &got)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%q: error %v, want %v", line, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q:\n got %+v\nwant %+v", line, got, want)
		}
	})
}

func BenchmarkDecodeOp(b *testing.B) {
	t0 := time.Now()
	line, err := json.Marshal(&Op{ID: 123456, Op: "incr", Key: "key-7", Worker: 17, Invoke: t0, Complete: t0.Add(time.Millisecond),
		Outcome: OK, Status: 200, Sent: true, Values: map[string]string{"seq": "123455"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var op Op
			if err := json.Unmarshal(line, &op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		b.ReportAllocs()
		var op Op
		var dec opDecoder
		for b.Loop() {
			if err := dec.decode(line, &op); err != nil {
				b.Fatal(err)
			}
		}
	})
}
