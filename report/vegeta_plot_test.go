package report

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"

	"github.com/collide-dev/collide/history"
)

// TestVegetaPlot writes results.bin from histories, decodes it with
// vegeta's own decoder and draws it with vegeta's own plot package, exactly
// as `go tool vegeta plot results.bin` does (plot.go: plot.New, Add each
// result, Close, WriteTo): the plot has one point per request, and one
// series per operation. Before ops were numbered from 0 per operation the
// plot held no point at all (`rowData = []`).
func TestVegetaPlot(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	op := func(id uint64, name string, invokeMs, latencyMs, status int) history.Op {
		o := history.Op{ID: id, Op: name, Invoke: at(invokeMs), Complete: at(invokeMs + latencyMs), Status: status, Outcome: history.OK, Sent: true}
		if status == 0 {
			o.Outcome = history.Unknown
		}
		return o
	}
	for _, tc := range []struct {
		name string
		ops  []history.Op // in file order
	}{
		{"fixture counter", fixtureOps(t, "2026-11-21/counter")},
		{"fixture double-submit", fixtureOps(t, "2026-11-21/double-submit")},
		{"two operations interleaved, ids shared", []history.Op{
			op(1, "incr", 0, 5, 200), op(2, "read", 1, 2, 200), op(3, "incr", 2, 5, 200),
			op(4, "read", 3, 1, 200), op(5, "incr", 4, 9, 409), op(6, "read", 5, 0, 0),
		}},
		{"completion order, not invoke order", []history.Op{
			op(3, "incr", 20, 1, 200), op(1, "incr", 0, 30, 200), op(2, "incr", 10, 25, 503),
		}},
		{"a burst: equal invoke times", []history.Op{
			op(7, "buy", 0, 3, 200), op(5, "buy", 0, 2, 200), op(6, "buy", 0, 1, 409), op(8, "buy", 1, 1, 200),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hist := filepath.Join(dir, "history.jsonl")
			w, err := history.Create(hist)
			if err != nil {
				t.Fatal(err)
			}
			perOp := map[string]int{}
			for i := range tc.ops {
				if err := w.Append(&tc.ops[i]); err != nil {
					t.Fatal(err)
				}
				perOp[tc.ops[i].Op]++
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, VegetaFile)
			if err := WriteVegetaResults(hist, out); err != nil {
				t.Fatal(err)
			}
			results := decodeVegeta(t, out)
			if len(results) != len(tc.ops) {
				t.Fatalf("decoded %d results, the history has %d ops", len(results), len(tc.ops))
			}
			checkPlotInvariants(t, results)

			p := plot.New(plot.Title(tc.name), plot.Label(plot.ErrorLabeler)) // vegeta plot's defaults: no downsampling
			for i := range results {
				if err := p.Add(&results[i]); err != nil {
					t.Fatalf("plot.Add(%+v): %v", results[i], err)
				}
			}
			p.Close()
			var html bytes.Buffer
			if _, err := p.WriteTo(&html); err != nil {
				t.Fatal(err)
			}
			rows, labels := plotData(t, html.String())
			if len(rows) != len(tc.ops) {
				t.Fatalf("the plot has %d points, the run %d requests", len(rows), len(tc.ops))
			}
			// labels are "Seconds", then "ATTACK: OK|ERROR" per series: each
			// series belongs to one operation, and every operation has one.
			points := map[string]int{}
			for _, row := range rows {
				for j, v := range row[1:] {
					if v != nil {
						points[strings.SplitN(labels[j+1], ": ", 2)[0]]++
					}
				}
			}
			if len(points) != len(perOp) {
				t.Fatalf("plot series by attack %v, operations %v", points, perOp)
			}
			for name, n := range perOp {
				if points[name] != n {
					t.Fatalf("operation %s: %d points in the plot, %d requests (labels %v)", name, points[name], n, labels)
				}
			}
		})
	}
}

// checkPlotInvariants checks what vegeta's plot relies on (lib/plot/plot.go,
// labeledSeries.add; lib/plot/timeseries.go, timeSeries.add): within one
// Attack the Seqs are 0, 1, …, n-1, and in Seq order Timestamps never
// decrease.
func checkPlotInvariants(t *testing.T, results []vegeta.Result) {
	t.Helper()
	byAttack := map[string][]vegeta.Result{}
	for _, r := range results {
		if r.Attack == "" {
			t.Fatalf("result without an Attack name: %+v", r)
		}
		byAttack[r.Attack] = append(byAttack[r.Attack], r)
	}
	for attack, rs := range byAttack {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Seq < rs[j].Seq })
		for i, r := range rs {
			if r.Seq != uint64(i) {
				t.Fatalf("attack %s: seqs %d…, want 0…%d with none missing or repeated", attack, rs[0].Seq, len(rs)-1)
			}
			if i > 0 && r.Timestamp.Before(rs[i-1].Timestamp) {
				t.Fatalf("attack %s: seq %d at %v before seq %d at %v", attack, r.Seq, r.Timestamp, rs[i-1].Seq, rs[i-1].Timestamp)
			}
		}
	}
}

func fixtureOps(t *testing.T, dir string) []history.Op {
	t.Helper()
	ops, err := history.ReadAll(loadFixture(t, dir).HistoryPath())
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func decodeVegeta(t *testing.T, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.DecoderFor(f) // what vegeta's report and plot call on each file
	if dec == nil {
		t.Fatal("vegeta does not recognise the file's format")
	}
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

// plotData extracts the points (`const rowData = [[seconds, y1, y2, …], …]`,
// null where a row has no point of that series) and the series labels from
// vegeta's plot page (lib/plot/assets/plot.html.tpl).
func plotData(t *testing.T, html string) (rows [][]*float64, labels []string) {
	t.Helper()
	cut := func(after, before string) string {
		_, rest, ok := strings.Cut(html, after)
		if !ok {
			t.Fatalf("plot page lacks %q", after)
		}
		s, _, ok := strings.Cut(rest, before)
		if !ok {
			t.Fatalf("plot page lacks %q after %q", before, after)
		}
		return s
	}
	if err := json.Unmarshal([]byte(cut("const rowData = ", ";\n")), &rows); err != nil {
		t.Fatalf("rowData: %v", err)
	}
	var opts struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal([]byte(cut("const opts = ", ";\n")), &opts); err != nil {
		t.Fatalf("opts: %v", err)
	}
	return rows, opts.Labels
}
