package history

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
)

// Writer streams ops as JSON Lines. It is safe for concurrent use. Each op is
// encoded and appended under one lock so lines never interleave, and a Tally
// of outcomes is kept as ops pass through.
type Writer struct {
	mu    sync.Mutex
	bw    *bufio.Writer
	file  *os.File // nil unless created by Create
	err   error
	n     int
	tally *Tally
	buf   []byte // one encoded line
}

// NewWriter returns a Writer that writes to w. Close flushes it.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &Writer{bw: bw, tally: NewTally()}
}

// Create creates (or truncates) the file at path and returns a Writer on it.
// Close flushes the buffer, syncs the file to disk and closes it.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	w := NewWriter(f)
	w.file = f
	return w, nil
}

// Append writes one op. The first write error is kept and returned by every
// later call and by Close.
func (w *Writer) Append(op *Op) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	var err error
	if w.buf, err = appendOpJSON(w.buf[:0], op); err == nil {
		_, err = w.bw.Write(w.buf)
	}
	if err != nil {
		w.err = fmt.Errorf("history: write op %d: %w", op.ID, err)
		return w.err
	}
	w.n++
	w.tally.Add(op)
	return nil
}

// Len is the number of ops written so far.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Tally returns a snapshot of the outcome counts of the ops written so far.
func (w *Writer) Tally() *Tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tally.Clone()
}

// Flush writes buffered ops to the underlying writer and, for a file, syncs
// it, so that an interrupted run leaves a readable history.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("history: flush: %w", err)
		return w.err
	}
	if w.file != nil {
		if err := w.file.Sync(); err != nil {
			w.err = fmt.Errorf("history: sync: %w", err)
			return w.err
		}
	}
	return nil
}

// Close flushes, syncs and (for Create) closes the file. It is safe to call
// more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	if w.file != nil {
		if cerr := w.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("history: close: %w", cerr)
		}
		w.file = nil
	}
	return err
}
