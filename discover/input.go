package discover

import (
	"bytes"
	"strconv"
	"strings"
)

// InputError is a source file discovery cannot use: it does not parse, or
// it asks for something refused (a HAR entry to a remote host). The CLI
// exits 2 on it. Line and Col are 1-based; 0 means unknown.
type InputError struct {
	File string
	Line int
	Col  int
	// Msg says what is wrong in one line, naming the entry or operation
	// when there is one ("entry 3: …", "paths./orders.post: …").
	Msg string
	// Err is the parser's error, when there is one (Unwrap returns it).
	Err error
}

// Unwrap returns the underlying error, or nil.
func (e *InputError) Unwrap() error { return e.Err }

// Error formats e as "File:Line:Col: Msg", leaving out the parts that are
// unknown.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(oneLineMsg(e.Msg))
	return b.String()
}

// inputErrorAt builds an InputError at a byte offset of data, turned into
// a line and a column (1-based, in bytes).
func inputErrorAt(file string, data []byte, offset int64, msg string) *InputError {
	line, col := offsetLineCol(data, offset)
	return &InputError{File: file, Line: line, Col: col, Msg: msg}
}

// offsetLineCol converts the offset encoding/json reports (the bytes read
// when the error was found, so the offending byte is the one before it)
// into a 1-based line and column.
func offsetLineCol(data []byte, offset int64) (line, col int) {
	// offset-1 is the offending byte, or len(data) past the end.
	offset = min(max(offset, 1), int64(len(data))+1)
	before := data[:offset-1] // up to the offending byte, excluded
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// oneLineMsg keeps an error on one line: a parser's multi-line message is
// joined with "; ".
func oneLineMsg(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}
