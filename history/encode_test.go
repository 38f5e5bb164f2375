package history

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAppendOpJSONMatchesEncodingJSON holds the encoder to
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

// FuzzAppendOpJSON: for any strings, numbers and times, appendOpJSON writes
// exactly encoding/json's bytes, so histories stay readable by anything
// that reads JSON and the reader's fallback never differs.
func FuzzAppendOpJSON(f *testing.F) {
	f.Add(uint64(1), "incr", "key-1", -3, int64(1700000000123456789), int64(1234), "ok", 200, "", "seq", "41")
	f.Add(uint64(0), "<op>&", "\u2028", 0, int64(-5), int64(0), "unknown", 0, "EOF\xff\n", "a<b", "\t")
	f.Fuzz(func(t *testing.T, id uint64, name, key string, worker int, invokeNs, latencyNs int64, outcome string, status int, errText, vk, vv string) {
		t0 := time.Unix(0, invokeNs).In(time.FixedZone("z", int(invokeNs%50400)))
		op := &Op{ID: id, Op: name, Key: key, Worker: worker, Logical: id / 2, Attempt: worker % 4,
			Invoke: t0, Complete: t0.Add(time.Duration(latencyNs)), Outcome: Outcome(outcome), Status: status,
			Sent: status%2 == 0, Error: errText}
		if vk != "" {
			op.Values = map[string]string{vk: vv, "seq": vv}
		}
		want, werr := json.Marshal(op)
		got, gerr := appendOpJSON(nil, op)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("errors differ: encoding/json %v, appendOpJSON %v", werr, gerr)
		}
		if werr == nil && string(got) != string(want)+"\n" {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
