package report

import (
	"fmt"
	"io"

	"github.com/collide-dev/collide/profiles"
)

// FormatOptions are what a format may use besides the document it writes.
type FormatOptions struct {
	// Width is the width, in columns, a terminal table is fitted to; 0 is
	// no limit (every column). Other formats ignore it.
	Width int
	// MaxPoints bounds the ok operations drawn on an HTML page's latency
	// chart (see HTMLOptions; 0: DefaultMaxPoints). Other formats ignore it.
	MaxPoints int
}

// Writer writes document d to w in one format.
type Writer[D any] func(w io.Writer, d D, o FormatOptions) error

// Formats is the registry of the formats one kind of document can be
// written in, by name (the value of a command's -format flag). Names keep
// the order they were registered in: the built-in formats first, in the
// order a command's help lists them. Not safe for concurrent Register;
// register from an init function.
type Formats[D any] struct {
	kind   string
	names  []string
	byName map[string]Writer[D]
}

// format is one built-in format of a kind.
type format[D any] struct {
	name  string
	write Writer[D]
}

func newFormats[D any](kind string, builtin ...format[D]) *Formats[D] {
	f := &Formats[D]{kind: kind, byName: map[string]Writer[D]{}}
	for _, b := range builtin {
		f.Register(b.name, b.write)
	}
	return f
}

// Register adds the format name, written by write. It panics on an empty
// name, a nil writer or a name already registered for the kind: that is a
// programming error, found at start-up.
func (f *Formats[D]) Register(name string, write Writer[D]) {
	if name == "" || write == nil {
		panic(fmt.Sprintf("report: %s format %q: empty name or nil writer", f.kind, name))
	}
	if _, dup := f.byName[name]; dup {
		panic(fmt.Sprintf("report: %s format %q registered twice", f.kind, name))
	}
	f.byName[name] = write
	f.names = append(f.names, name)
}

// Lookup returns the writer of the named format, or an *UnknownFormatError
// listing the known ones.
func (f *Formats[D]) Lookup(name string) (Writer[D], error) {
	if w, ok := f.byName[name]; ok {
		return w, nil
	}
	return nil, &UnknownFormatError{Kind: f.kind, Name: name, Known: f.Names()}
}

// Names returns the registered names, in registration order.
func (f *Formats[D]) Names() []string { return append([]string(nil), f.names...) }

// Kind names the kind of document, e.g. "compare".
func (f *Formats[D]) Kind() string { return f.kind }

// UnknownFormatError is a format name no format of the kind has.
type UnknownFormatError struct {
	Kind  string   // the kind of document, e.g. "compare"
	Name  string   // the name asked for
	Known []string // the names registered, in order
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("-format %q: want %s", e.Name, OrList(e.Known))
}

// OrList joins names as "a", "a or b", "a, b or c".
func OrList(names []string) string {
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " or " + names[len(names)-1]
}

// The registries of the built-in kinds of document. A command looks its
// -format up in its kind's registry; an unknown name is a usage error
// listing Names.
var (
	// RunFormats write the result of the run `collide run` just made, on
	// stdout.
	RunFormats = newFormats("run",
		format[*Result]{"table", runTable},
		format[*Result]{"json", runJSON},
		format[*Result]{"none", writeNothing[*Result]})
	// ReportFormats write the runs `collide report` read back from run
	// folders, oldest first.
	ReportFormats = newFormats("report",
		format[[]Run]{"table", reportTable},
		format[[]Run]{"markdown", reportMarkdown},
		format[[]Run]{"junit", reportJUnit},
		format[[]Run]{"html", reportHTML})
	// CompareFormats write the comparisons of `collide compare`.
	CompareFormats = newFormats("compare",
		format[[]*Comparison]{"table", compareTable},
		format[[]*Comparison]{"markdown", compareMarkdown},
		format[[]*Comparison]{"json", compareJSON})
	// HistoryFormats write the list of runs of `collide history`.
	HistoryFormats = newFormats("history",
		format[[]HistoryEntry]{"table", historyTable},
		format[[]HistoryEntry]{"markdown", historyMarkdown},
		format[[]HistoryEntry]{"json", historyJSON})
	// CountFormats write the summary of `collide run -count N`.
	CountFormats = newFormats("count",
		format[*CountSummary]{"table", countTable},
		format[*CountSummary]{"json", countJSON},
		format[*CountSummary]{"none", writeNothing[*CountSummary]})
	// ListFormats write the built-in profiles of `collide list`.
	ListFormats = newFormats("list",
		format[[]profiles.BuiltinInfo]{"table", listTable},
		format[[]profiles.BuiltinInfo]{"json", listJSON})
	// AuditFormats write an audit's report on stdout (`collide audit`; the
	// audit folder always gets every file).
	AuditFormats = newFormats("audit",
		format[*AuditReport]{"table", auditTable},
		format[*AuditReport]{"markdown", auditMarkdown},
		format[*AuditReport]{"none", writeNothing[*AuditReport]})
)
