package report

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
)

// WriteVegetaResults converts the history at historyPath into Vegeta's
// binary (gob) results format at outPath, one vegeta.Result per operation in
// history order, so that `vegeta report results.bin`, `vegeta plot
// results.bin` and any tool reading Vegeta results work on a collide run.
// The file is written atomically (temporary file, sync, rename).
//
// Mapping: Attack is the operation's name (vegeta report and plot group
// results by it: plot draws one series per attack), Seq the op's rank from 0
// in invoke order among the ops of the same operation (see vegetaSeqs),
// Timestamp its invoke time, Latency complete − invoke,
// Code its HTTP status (0 when no response arrived). Error is the transport
// error; for an op without one that did not get a 2xx/3xx it is the status
// text ("409 Conflict"), as Vegeta's own attacker sets it, or "unknown
// outcome: no response" when no status arrived either. Bytes, method, URL
// and headers are not in the history and stay empty.
func WriteVegetaResults(historyPath, outPath string) error {
	dir := filepath.Dir(outPath)
	f, err := os.CreateTemp(dir, "."+filepath.Base(outPath)+".tmp-*")
	if err != nil {
		return fmt.Errorf("report: vegeta results: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("report: vegeta results: %w", err)
	}
	seqs, err := vegetaSeqs(historyPath)
	if err != nil {
		f.Close()
		return fmt.Errorf("report: vegeta results: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	enc := vegeta.NewEncoder(bw)
	err = history.Stream(historyPath, false, func(op *history.Op) error {
		res := VegetaResult(op)
		res.Seq = seqs.seq(op)
		if err := enc.Encode(&res); err != nil {
			return fmt.Errorf("encode op #%d: %w", op.ID, err)
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, outPath)
	}
	if err != nil {
		return fmt.Errorf("report: vegeta results %s: %w", outPath, err)
	}
	return nil
}

// VegetaResult is one history operation as a Vegeta result (see
// WriteVegetaResults for the mapping), but with Seq the op's id: only
// WriteVegetaResults, which sees the whole history, numbers ops from 0 per
// operation.
func VegetaResult(op *history.Op) vegeta.Result {
	res := vegeta.Result{
		Attack:    op.Op,
		Seq:       op.ID,
		Code:      uint16(op.Status),
		Timestamp: op.Invoke,
		Latency:   max(op.Latency(), 0),
		Error:     op.Error,
	}
	if res.Error == "" && (op.Status < 200 || op.Status >= 400) {
		if op.Status == 0 {
			res.Error = "unknown outcome: no response"
		} else {
			res.Error = fmt.Sprintf("%d %s", op.Status, http.StatusText(op.Status))
		}
	}
	return res
}

// opSeqs numbers the ops of a history the way vegeta's plot needs them. Its
// plot (lib/plot/plot.go, labeledSeries.add in vegeta v12.13.0) keeps one
// series per Attack, buffers each result until every lower Seq of that
// attack has arrived, starting from Seq 0 (whose Timestamp is the series'
// start), and rejects a point whose Timestamp is older than the previous
// point's (timeseries.add: "non monotonically increasing timestamp"). So
// within one Attack the Seqs must be exactly 0, 1, 2, … with Timestamps that
// never decrease. History ids are unique per run, not per operation, and
// start at 1: a plot waiting for Seq 0 drew nothing.
type opSeqs map[string][]opKey

// opKey orders ops of one operation: invoke time, then id.
type opKey struct {
	invokeNs int64 // Invoke as Unix nanoseconds
	id       uint64
}

func (a opKey) less(b opKey) bool {
	return a.invokeNs < b.invokeNs || a.invokeNs == b.invokeNs && a.id < b.id
}

// vegetaSeqs reads the history once and sorts each operation's ops by
// invoke time (16 bytes per op: 16 MB for a million requests).
func vegetaSeqs(historyPath string) (opSeqs, error) {
	s := opSeqs{}
	err := history.Stream(historyPath, false, func(op *history.Op) error {
		s[op.Op] = append(s[op.Op], opKey{op.Invoke.UnixNano(), op.ID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, keys := range s {
		sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	}
	return s, nil
}

// seq is op's rank, from 0, among the ops of its operation in invoke order.
func (s opSeqs) seq(op *history.Op) uint64 {
	keys := s[op.Op]
	k := opKey{op.Invoke.UnixNano(), op.ID}
	return uint64(sort.Search(len(keys), func(i int) bool { return !keys[i].less(k) }))
}
