package profiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// source records where a parsed profile came from.
type source struct {
	file string
	hash string
	// lines maps every field path present in the file ("", "operations",
	// "operations[0]", "operations[0].rate", …) to the line of its key (of
	// the item, for list items); 0 for values given by --set.
	lines map[string]int
	// set holds the field paths whose values came from --set overrides.
	set map[string]bool
}

// Load reads the profile at path, applies the --set overrides, expands
// ${ENV} references, validates it and fills in defaults. When no file exists
// at path and path names a built-in profile ("counter"), that profile is
// loaded instead, under the file name "builtin/<name>.yaml".
//
// Every error Load returns for a bad profile is an *Error.
func Load(path string, overrides []string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return Parse(path, data, overrides)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if b, berr := Builtin(path); berr == nil {
			return Parse(builtinFile(path), b, overrides)
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("no such file, and no built-in profile of that name (built-ins: %s)", builtinNames())}
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return nil, &Error{File: path, Msg: msg}
}

// Parse parses the profile in data, read from file (a name used in errors
// only). The pipeline: YAML → --set overrides → ${ENV} expansion → strict
// decoding (unknown fields and wrong types are errors) → validation →
// defaults. Every error is an *Error naming file, line and field path.
//
// An override is "path=value": path is dotted field names with [i] list
// indices (operations[0].rate, target.demo.mode) and value is YAML (50/s,
// 0.2, "{mode: safe}", "[2xx, 409]"). Missing mapping keys are created; list
// indices must exist.
func Parse(file string, data []byte, overrides []string) (*Profile, error) {
	p, err := parse(file, data, overrides)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parse(file string, data []byte, overrides []string) (*Profile, *Error) {
	root, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	set := map[*yaml.Node]bool{}
	for _, o := range overrides {
		if err := applyOverride(file, root, o, set); err != nil {
			return nil, err
		}
	}
	hash := hashSource(data, root, overrides)
	if err := expandEnv(file, root, "", set, os.LookupEnv); err != nil {
		return nil, err
	}
	src := &source{file: file, hash: hash, lines: map[string]int{}, set: map[string]bool{}}
	w := &walker{file: file, set: set, src: src, budget: walkBudget, active: map[*yaml.Node]bool{}}
	p := &Profile{}
	if err := w.walk(root, reflect.ValueOf(p).Elem(), "", pos{line: root.Line, set: set[root]}); err != nil {
		return nil, err
	}
	p.src = src
	p.bindCheckerFields(set)
	if err := p.validate(); err != nil {
		return nil, err
	}
	p.applyDefaults()
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the syntax errors that yaml.v3's parser (not its
// scanner) reports. For these it gives the 0-based line of the enclosing
// construct (e.g. where an unclosed flow mapping opened), so one is added.
var parserProblems = map[string]string{
	"did not find expected <stream-start>":   "",
	"did not find expected <document start>": "",
	"found undefined tag handle":             "",
	"did not find expected node content":     "",
	"did not find expected '-' indicator":    " (list items must line up)",
	"did not find expected key":              " (check the indentation)",
	"did not find expected ',' or ']'":       " (a [ list ] here is not closed, or an item needs quotes)",
	"did not find expected ',' or '}'":       ` (a { mapping } here is not closed, or a value needs quotes, e.g. url: "/items/{{key}}")`,
	"found duplicate %YAML directive":        "",
	"found incompatible YAML document":       "",
	"found duplicate %TAG directive":         "",
}

// yamlError turns a syntax error from the yaml package into an *Error,
// taking the line out of its text when it names one.
func yamlError(file string, data []byte, err error) *Error {
	msg := oneLine(err.Error())
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if hint, ok := parserProblems[m[2]]; ok {
			return &Error{File: file, Line: line + 1, Msg: m[2] + hint}
		}
		return &Error{File: file, Line: line, Msg: m[2]}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &Error{File: file, Line: lineOf(data, msg), Msg: msg}
}

// readerProblems are the errors yaml.v3 reports about bytes that are not
// valid text; it gives no line for them.
var readerProblems = []string{"invalid leading UTF-8 octet", "incomplete UTF-8 octet sequence", "invalid trailing UTF-8 octet", "invalid length of a UTF-8 sequence", "invalid Unicode character", "control characters are not allowed", "incomplete UTF-16", "unexpected low surrogate area", "expected low surrogate area", "input error"}

// lineOf finds the line of a syntax error that yaml.v3 reported without
// one: an unknown alias, bytes that are not text, or (for any other
// problem) the first line, where yaml.v3 leaves the line out.
func lineOf(data []byte, msg string) int {
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			return 1 + bytes.Count(data[:i], []byte("\n"))
		}
		return 0
	}
	for _, p := range readerProblems {
		if strings.HasPrefix(msg, p) {
			for i, r := range string(data) {
				bad := r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r < 0xa0 && r != 0x85)
				if bad {
					return 1 + bytes.Count(data[:i], []byte("\n"))
				}
			}
			return 0
		}
	}
	return 1
}

// safely runs a yaml library call, turning a panic into an error: a bad
// profile must never crash the caller.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return f()
}

// parseDocument parses data into a node tree and returns its root mapping.
// A profile file holds exactly one YAML document.
func parseDocument(file string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := safely(func() error { return dec.Decode(&doc) })
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		return nil, &Error{File: file, Msg: "empty profile (see docs/profiles.md for the format)"}
	}
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	var extra yaml.Node
	err = safely(func() error { return dec.Decode(&extra) })
	switch {
	case err == nil:
		return nil, &Error{File: file, Line: extra.Line, Msg: "a profile file holds one YAML document, found a second (remove the ---)"}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(file, data, err)
	}
	root := doc.Content[0]
	if root.Kind == yaml.AliasNode {
		root = root.Alias
	}
	if root == nil || root.Kind != yaml.MappingNode {
		line := doc.Line
		if root != nil {
			line = root.Line
		}
		return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("a profile is a mapping of fields (name, target, operations, …), got %s", describe(root))}
	}
	return root, nil
}

// hashSource hashes the raw bytes, or, when overrides changed the tree, the
// tree re-encoded as YAML (with the overrides, so that the hash changes
// even in the unlikely case that encoding fails).
func hashSource(data []byte, root *yaml.Node, overrides []string) string {
	h := sha256.New()
	if len(overrides) == 0 {
		h.Write(data)
		return hex.EncodeToString(h.Sum(nil))
	}
	var out []byte
	err := safely(func() error {
		var err error
		out, err = yaml.Marshal(root)
		return err
	})
	if err != nil {
		out = data
		for _, o := range overrides {
			out = append(append(out, "\n# --set "...), o...)
		}
	}
	h.Write(out)
	return hex.EncodeToString(h.Sum(nil))
}

// File is the file name the profile was parsed from ("" for a Profile built
// in code).
func (p *Profile) File() string {
	if p.src == nil {
		return ""
	}
	return p.src.file
}

// Hash is the SHA-256 (hex) of the profile's raw bytes, re-encoded after the
// --set overrides when there were any; ${ENV} values do not enter it. Result
// files record it so that runs of the same profile can be recognised.
func (p *Profile) Hash() string {
	if p.src == nil {
		return ""
	}
	return p.src.hash
}

// Line returns the line of a field path such as "chaos[1].fault" or
// "operations[0]" (the line of the item), or 0 when the field is not in the
// file or its value came from a --set override.
func (p *Profile) Line(field string) int {
	if p.src == nil {
		return 0
	}
	return p.src.lines[field]
}

// Errorf builds an *Error positioned at a field path, for validation done
// outside this package (unknown fault kinds, expressions that do not
// compile). When the field is absent from the file the error takes the
// line of its nearest present parent; when its value came from --set the
// error names the override.
func (p *Profile) Errorf(field, format string, args ...any) *Error {
	line, set := p.locate(field)
	return errorf(p.File(), line, set, field, format, args...)
}

// locate finds the line of field or of its nearest present parent, and
// whether that value came from --set.
func (p *Profile) locate(field string) (line int, set bool) {
	if p.src == nil {
		return 0, false
	}
	for f := field; ; f = parentPath(f) {
		if l, ok := p.src.lines[f]; ok {
			return l, p.src.set[f]
		}
		if f == "" {
			return 0, false
		}
	}
}

// has reports whether field is present in the file or given by --set.
func (p *Profile) has(field string) bool {
	if p.src == nil {
		return false
	}
	_, ok := p.src.lines[field]
	return ok
}

// parentPath is the path one level up: "a.b[2]" → "a.b" → "a" → "".
func parentPath(f string) string {
	if strings.HasSuffix(f, "]") {
		if i := strings.LastIndexByte(f, '['); i >= 0 {
			return f[:i]
		}
	}
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return f[:i]
	}
	return ""
}

// joinPath appends a field name to a path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// sortErrors orders errors by document order: --set errors first (they
// have no line), then by line; the sort is stable so that errors on one
// line keep the order in which they were found.
func sortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
}
