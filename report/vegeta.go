package report

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
)

// WriteVegetaResults converts the history at historyPath into Vegeta's
// binary (gob) results format at outPath, one vegeta.Result per operation in
// history order, so that `vegeta report results.bin`, `vegeta plot
// results.bin` and any tool reading Vegeta results work on a collide run.
// The file is written atomically (temporary file, sync, rename).
//
// Mapping: Attack is the operation's name (vegeta plot draws one series per
// attack), Seq its id, Timestamp its invoke time, Latency complete − invoke,
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
	bw := bufio.NewWriterSize(f, 64<<10)
	enc := vegeta.NewEncoder(bw)
	err = history.Stream(historyPath, false, func(op *history.Op) error {
		res := VegetaResult(op)
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
// WriteVegetaResults for the mapping).
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
