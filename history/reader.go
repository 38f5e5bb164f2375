package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Reader reads ops from a JSON Lines stream one at a time.
type Reader struct {
	sc   *bufio.Scanner
	line int
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
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var op Op
		if err := json.Unmarshal(b, &op); err != nil {
			return nil, fmt.Errorf("history: line %d: %w", r.line, err)
		}
		return &op, nil
	}
	if err := r.sc.Err(); err != nil {
		return nil, fmt.Errorf("history: line %d: %w", r.line+1, err)
	}
	return nil, io.EOF
}

// Each calls fn for every op in the file at path, in file order, stopping at
// the first error fn returns.
func Each(path string, fn func(*Op) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	r := NewReader(f)
	for {
		op, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(op); err != nil {
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
