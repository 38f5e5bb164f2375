package invariants

import (
	"testing"
)

// TestSampleOK: the sample of a count check is the first group of ok ops
// that ran at once (at most MaxOps), else the first MaxOps ok ops; total
// counts every matching ok op, or is the caller's known count.
func TestSampleOK(t *testing.T) {
	seq := func(from, n, gap int, out ...hOp) []hOp {
		for i := range n {
			out = append(out, hop(uint64(from+i), "incr", "k", hOK, (from+i)*gap, 5))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		hist      []hOp
		op        string
		known     int
		wantIDs   []uint64
		wantTotal int
	}{
		{"first overlapping group", append(seq(1, 3, 10), seq(4, 3, 1)...), "incr", -1, []uint64{4, 5, 6}, 6},
		{"no overlap: the first MaxOps", seq(1, 12, 10), "incr", -1, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 12},
		{"group capped at MaxOps", seq(1, 14, 0), "incr", -1, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 14},
		{"known total stops early", seq(1, 14, 0), "incr", 99, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99},
		{"fail and other ops are not acknowledged ones", []hOp{hop(1, "incr", "k", hFail, 0, 5), hop(2, "get", "k", hOK, 0, 5), hop(3, "incr", "k", hOK, 1, 5)}, "incr", -1, []uint64{3}, 1},
		{"empty op matches every operation", []hOp{hop(1, "a", "k", hOK, 0, 5), hop(2, "b", "k", hOK, 1, 5)}, "", -1, []uint64{1, 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := writeHistory(t, t.TempDir(), tc.hist)
			got, total, err := sampleOK(&Env{HistoryPath: path}, tc.op, nil, tc.known)
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			if len(ids) != len(tc.wantIDs) || total != tc.wantTotal {
				t.Fatalf("picked %v of %d, want %v of %d", ids, total, tc.wantIDs, tc.wantTotal)
			}
			for i := range ids {
				if ids[i] != tc.wantIDs[i] {
					t.Fatalf("picked %v, want %v", ids, tc.wantIDs)
				}
			}
		})
	}
}

// TestWords: the domain's words, and neutral ones without them.
func TestWords(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		w                    words
		key, wantOf, wantAmt string
	}{
		{"neutral integer key", words{thing: "key"}, "7", "key 7", "40"},
		{"neutral text key", words{thing: "key"}, "a", `key "a"`, "40"},
		{"no key, no thing", words{thing: "key"}, "", "", "40"},
		{"a product in units of stock", words{unit: "units of stock", thing: "product"}, "12", "product 12", "40 units of stock"},
		{"no key, a thing", words{thing: "counter"}, "", "the counter", "40"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.of(tc.key); got != tc.wantOf {
				t.Errorf("of(%q) = %q, want %q", tc.key, got, tc.wantOf)
			}
			if got := tc.w.amount("40"); got != tc.wantAmt {
				t.Errorf("amount = %q, want %q", got, tc.wantAmt)
			}
		})
	}
}
