package history

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// Reader reads ops from a JSON Lines stream one at a time.
type Reader struct {
	sc   *bufio.Scanner
	line int
	dec  opDecoder
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &Reader{sc: sc}
}

// Next returns the next op, or io.EOF after the last one. A line that is not
// a valid op is an error naming its line number.
func (r *Reader) Next() (*Op, error) {
	op := new(Op)
	if err := r.Read(op); err != nil {
		return nil, err
	}
	return op, nil
}

// Read decodes the next op into op, overwriting all of it, or returns
// io.EOF after the last one. Passes that keep nothing per op read into one
// reused Op and allocate almost nothing per line.
func (r *Reader) Read(op *Op) error {
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if err := r.dec.decode(b, op); err != nil {
			return fmt.Errorf("history: line %d: %w", r.line, err)
		}
		return nil
	}
	if err := r.sc.Err(); err != nil {
		return fmt.Errorf("history: line %d: %w", r.line+1, err)
	}
	return io.EOF
}

// SkipTimes makes the reader leave Invoke and Complete zero, for passes
// that do not read them (about a third of the decoding time).
func (r *Reader) SkipTimes() { r.dec.skipTimes = true }

// Each calls fn for every op in the file at path, in file order, stopping at
// the first error fn returns.
func Each(path string, fn func(*Op) error) error {
	return Stream(path, false, func(op *Op) error {
		kept := *op // fn may keep it
		return fn(&kept)
	})
}

// Stream is Each for passes that keep nothing per op: every line is decoded
// into one reused Op, so fn must not keep op (its strings and maps are its
// own and may be kept). skipTimes leaves Invoke and Complete zero.
func Stream(path string, skipTimes bool, fn func(*Op) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	r := NewReader(f)
	if skipTimes {
		r.SkipTimes()
	}
	var op Op
	for {
		err := r.Read(&op)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(&op); err != nil {
			return err
		}
	}
}

// ReadAll reads every op of the file at path into memory. Use it only for
// histories known to be small (tests, linearizability checks per key).
func ReadAll(path string) ([]Op, error) {
	var ops []Op
	err := Each(path, func(op *Op) error { ops = append(ops, *op); return nil })
	return ops, err
}
