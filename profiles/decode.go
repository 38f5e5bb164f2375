package profiles

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// walkBudget bounds the nodes one decode visits, so that a small file of
// nested aliases ("billion laughs") cannot make it run for ever.
const walkBudget = 1_000_000

// pos is where a value sits: the line of its key (or list item), or, for a
// value given by --set, no line.
type pos struct {
	line int
	set  bool
}

// walker decodes a node tree into a Go value field by field, strictly: an
// unknown field, a duplicate field or a value of the wrong type is an
// *Error naming the line and field path. It records the line of every
// field it decodes.
type walker struct {
	file   string
	set    map[*yaml.Node]bool // nodes that came from --set
	src    *source
	budget int
	active map[*yaml.Node]bool // aliases being expanded, to catch cycles
	// ops, when not nil, are the operation names an OpName may take.
	ops []string
	// alsoKnown are field names that are known elsewhere (an invariant's
	// common fields, for its checker's struct): suggested for an unknown
	// field of the top struct.
	alsoKnown []string
	// checker, when set, is the checker whose fields are being decoded,
	// for the unknown field message.
	checker string
}

func (w *walker) errAt(at pos, path, format string, args ...any) *Error {
	return errorf(w.file, at.line, at.set, path, format, args...)
}

// fieldPos is the position of a mapping entry.
func (w *walker) fieldPos(key, val *yaml.Node) pos {
	return pos{line: key.Line, set: w.set[key] || w.set[val]}
}

// itemPos is the position of a list item.
func (w *walker) itemPos(item *yaml.Node) pos {
	return pos{line: item.Line, set: w.set[item]}
}

func (w *walker) record(path string, at pos) {
	if at.set {
		w.src.lines[path] = 0
		w.src.set[path] = true
		return
	}
	w.src.lines[path] = at.line
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// shortForm is a struct that may also be written as a scalar or a list, its
// short forms (burst: 8 for burst: {copies: 8}; keys: [7, 9]); written as a
// mapping it is decoded field by field like any struct, strict and with
// lines.
type shortForm interface {
	fromShort(n *yaml.Node) error
}

func (w *walker) walk(n *yaml.Node, v reflect.Value, path string, at pos) *Error {
	if w.budget--; w.budget < 0 {
		return w.errAt(at, path, "profile too large (too many nodes or aliases)")
	}
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil {
			return w.errAt(at, path, "unknown alias *%s", n.Value)
		}
		if w.active[target] {
			return w.errAt(at, path, "alias *%s refers to itself", n.Value)
		}
		w.active[target] = true
		defer delete(w.active, target)
		return w.walk(target, v, path, at)
	}
	w.record(path, at)
	if isNull(n) {
		v.SetZero()
		return nil
	}
	var decode func(*yaml.Node) error
	if v.CanAddr() {
		switch d := v.Addr().Interface().(type) {
		case *Fault:
			return w.decodeFault(n, d, path, at)
		case *time.Duration:
			// A fault kind's durations (package chaos/fault) are spelt as
			// every Duration of a profile.
			decode = func(n *yaml.Node) error {
				var pd Duration
				err := pd.UnmarshalYAML(n)
				*d = pd.D()
				return err
			}
		case yaml.Unmarshaler:
			decode = d.UnmarshalYAML
		case shortForm:
			if n.Kind != yaml.MappingNode {
				decode = d.fromShort
			}
		}
	}
	if decode != nil {
		if err := decode(n); err != nil {
			msg := err.Error()
			if n.Kind != yaml.ScalarNode {
				msg += ", got " + describe(n)
			}
			return w.errAt(at, path, "%s", msg)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := w.walk(n, nv.Elem(), path, at); err != nil {
			return err
		}
		v.Set(nv)
		return nil

	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.errAt(at, path, "want a mapping of fields, got %s", describe(n))
		}
		fields := fieldsOf(v.Type())
		entries, err := w.entries(n, path, at)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.key.Value
			fp := joinPath(path, name)
			i, ok := fields.index[name]
			if !ok {
				if path == "" && strings.HasPrefix(name, "x-") {
					continue // extension field: a home for YAML anchors
				}
				if fields.rest >= 0 {
					// the checker's field: kept for it to decode
					v.Field(fields.rest).Addr().Interface().(*CheckerFields).collect(e.key, e.val)
					w.record(fp, w.fieldPos(e.key, e.val))
					continue
				}
				known := fields.names
				if w.alsoKnown != nil {
					known = append(slices.Clone(known), w.alsoKnown...)
				}
				if _, close := Nearest(name, known); !close && w.checker != "" {
					return w.errAt(pos{line: e.key.Line, set: w.set[e.key]}, fp, "%s is not read by checker %s (its own fields: %s)", name, w.checker, orNone(fields.names))
				}
				return w.errAt(pos{line: e.key.Line, set: w.set[e.key]}, fp, "unknown field%s", suggest(name, known))
			}
			if err := w.walk(e.val, v.Field(i), fp, w.fieldPos(e.key, e.val)); err != nil {
				return err
			}
		}
		return nil

	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return w.errAt(at, path, "want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := w.walk(item, s.Index(i), indexPath(path, i), w.itemPos(item)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil

	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return w.errAt(at, path, "want a mapping, got %s", describe(n))
		}
		entries, err := w.entries(n, path, at)
		if err != nil {
			return err
		}
		m := reflect.MakeMapWithSize(v.Type(), len(entries))
		for _, e := range entries {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := w.walk(e.val, ev, joinPath(path, e.key.Value), w.fieldPos(e.key, e.val)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
		return nil

	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return w.errAt(at, path, "want text, got %s", describe(n))
		}
		if v.Type() == opNameType && w.ops != nil && !slices.Contains(w.ops, n.Value) {
			return w.errAt(at, path, "%s", UnknownName("operation", "operations", n.Value, w.ops))
		}
		v.SetString(n.Value)
		return nil

	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return w.errAt(at, path, "want an integer, got %s", describe(n))
		}
		if err := safely(func() error { return n.Decode(v.Addr().Interface()) }); err != nil {
			if _, perr := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); errors.Is(perr, strconv.ErrRange) || perr == nil {
				return w.errAt(at, path, "%s is out of range", n.Value)
			}
			return w.errAt(at, path, "want an integer, got %s", describe(n))
		}
		return nil

	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			return w.errAt(at, path, "want a number, got %s", describe(n))
		}
		if err := safely(func() error { return n.Decode(v.Addr().Interface()) }); err != nil {
			return w.errAt(at, path, "want a number, got %s", describe(n))
		}
		return nil

	case reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			return w.errAt(at, path, "want true or false, got %s", describe(n))
		}
		if err := safely(func() error { return n.Decode(v.Addr().Interface()) }); err != nil {
			return w.errAt(at, path, "want true or false, got %s", describe(n))
		}
		return nil
	}
	return w.errAt(at, path, "cannot decode into %s", v.Type())
}

// entry is one key/value pair of a mapping.
type entry struct{ key, val *yaml.Node }

// entries lists a mapping's pairs with YAML merge keys (<<: *base) resolved:
// explicit keys win over merged ones, and earlier merged mappings over later
// ones. A key given twice is an error.
func (w *walker) entries(n *yaml.Node, path string, at pos) ([]entry, *Error) {
	var explicit, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if w.budget--; w.budget < 0 {
			return nil, w.errAt(at, path, "profile too large (too many nodes or aliases)")
		}
		if k.Kind != yaml.ScalarNode {
			return nil, w.errAt(pos{line: k.Line, set: w.set[k]}, path, "want a field name, got %s", describe(k))
		}
		if k.ShortTag() == "!!merge" {
			m, err := w.mergeSources(v, path, w.fieldPos(k, v), 0)
			if err != nil {
				return nil, err
			}
			merged = append(merged, m...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return nil, w.errAt(pos{line: k.Line, set: w.set[k]}, joinPath(path, k.Value), "duplicate field (first at line %d)", first.Line)
		}
		seen[k.Value] = k
		explicit = append(explicit, entry{k, v})
	}
	for _, e := range merged {
		if _, dup := seen[e.key.Value]; !dup {
			seen[e.key.Value] = e.key
			explicit = append(explicit, e)
		}
	}
	return explicit, nil
}

// mergeSources lists the entries a merge key's value contributes: a mapping
// or a list of mappings (usually aliases).
func (w *walker) mergeSources(v *yaml.Node, path string, at pos, depth int) ([]entry, *Error) {
	if depth > 32 {
		return nil, w.errAt(at, path, "merge (<<) nested too deeply")
	}
	if v.Kind == yaml.AliasNode {
		if v.Alias == nil || w.active[v.Alias] {
			return nil, w.errAt(at, path, "alias *%s refers to itself", v.Value)
		}
		w.active[v.Alias] = true
		defer delete(w.active, v.Alias)
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		return w.entries(v, path, at)
	case yaml.SequenceNode:
		var out []entry
		for _, item := range v.Content {
			if item.Kind == yaml.SequenceNode {
				return nil, w.errAt(at, path, "merge (<<) wants a mapping or a list of mappings")
			}
			m, err := w.mergeSources(item, path, at, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, m...)
		}
		return out, nil
	}
	return nil, w.errAt(at, path, "merge (<<) wants a mapping or a list of mappings, got %s", describe(v))
}

// isNull reports whether n is an empty value or null (~).
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch {
	case n == nil || n.Kind == 0:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	}
	return quote(n.Value)
}

// quote quotes a value from the profile for a message, shortened when long.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return strconv.Quote(string(r[:max])) + "…"
	}
	return strconv.Quote(s)
}

// structInfo lists a struct type's YAML field names.
type structInfo struct {
	index map[string]int // yaml name → field index
	names []string       // yaml names in declaration order
	rest  int            // index of the CheckerFields field that keeps undeclared fields, or -1
}

var structCache sync.Map // reflect.Type → *structInfo

func fieldsOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{index: map[string]int{}, rest: restField(t)}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		si.index[name] = i
		si.names = append(si.names, name)
	}
	structCache.Store(t, si)
	return si
}

// suggest completes an "unknown field" message with the closest known
// name, or the list of known names when none is close.
func suggest(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		d := distance(strings.ToLower(name), k)
		if d < bestD && d < max(len(k), len(name)) {
			best, bestD = k, d
		}
	}
	if best != "" {
		return " (did you mean " + strconv.Quote(best) + "?)"
	}
	return " (want one of: " + strings.Join(known, ", ") + ")"
}

// distance is the Levenshtein distance between a and b, counted in bytes
// (field names are ASCII); long inputs are not compared.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
