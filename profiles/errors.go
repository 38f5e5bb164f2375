package profiles

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a profile error positioned at a file, line and field path:
//
//	counter.yaml:12: operations[0].rate: invalid rate "abc" (want e.g. 300/s, 10/100ms or max)
//
// Line 0 means the line is unknown, as for a value given by a --set override;
// such errors name the override instead:
//
//	counter.yaml: --set operations[0].rate: invalid rate "abc" (want e.g. 300/s, 10/100ms or max)
//
// Field is a path such as "chaos[1].fault" ("--set chaos[1].fault" when the
// value came from an override); it is empty for errors about the file as a
// whole (a YAML syntax error).
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats e as "File:Line: Field: Msg", leaving out the parts that are
// unknown, with any secret the message quotes (a URL's password …) redacted
// (RedactText).
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(RedactText(e.Msg))
	return b.String()
}

// setPrefix marks a field path whose value came from a --set override.
const setPrefix = "--set "

// errorf builds an Error; set reports that the field's value came from a
// --set override, so that the error names the override rather than a line.
func errorf(file string, line int, set bool, field, format string, args ...any) *Error {
	e := &Error{File: file, Line: line, Field: oneLine(field), Msg: oneLine(fmt.Sprintf(format, args...))}
	if set {
		e.Line = 0
		if field == "" {
			e.Field = strings.TrimSpace(setPrefix)
		} else {
			e.Field = setPrefix + field
		}
	}
	return e
}

// oneLine escapes control characters (a field name may hold a newline), so
// that an error is always one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
