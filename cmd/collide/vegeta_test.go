package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// TestVegetaPlotOfRun makes a real run and reads its results.bin as
// `go tool vegeta plot` does (vegeta's decoder and plot package, in
// process): the plot has one point per request of the run, in one series
// per operation ("incr: OK", "incr: ERROR"), where it used to have none.
func TestVegetaPlotOfRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counter")
	if code, stdout, stderr := collide(t, "run", "-q", "-format", "none", "-set", "target.demo.mode=safe", "-out", dir, "counter"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		Totals struct{ OK, Fail, Unknown int } `json:"totals"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	requests := res.Totals.OK + res.Totals.Fail + res.Totals.Unknown

	f, err := os.Open(filepath.Join(dir, "results.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.DecoderFor(f)
	if dec == nil {
		t.Fatal("vegeta does not recognise results.bin")
	}
	p := plot.New(plot.Label(plot.ErrorLabeler))
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := p.Add(&r); err != nil {
			t.Fatal(err)
		}
		n++
	}
	p.Close()
	var html bytes.Buffer
	if _, err := p.WriteTo(&html); err != nil {
		t.Fatal(err)
	}
	_, data, _ := strings.Cut(html.String(), "const rowData = ")
	data, _, _ = strings.Cut(data, ";\n")
	var rows [][]*float64
	if err := json.Unmarshal([]byte(data), &rows); err != nil {
		t.Fatalf("rowData: %v", err)
	}
	if requests == 0 || n != requests || len(rows) != requests {
		t.Fatalf("run of %d requests: results.bin has %d results, the plot %d points", requests, n, len(rows))
	}
	if !strings.Contains(html.String(), `"incr: OK"`) {
		t.Fatal(`plot has no series "incr: OK"`)
	}
}
