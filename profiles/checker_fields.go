package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"
)

// CheckerFields are the fields of an invariant that belong to its checker:
// every entry of the invariant's YAML mapping that Invariant does not
// declare, kept as YAML with its lines. This package does not know what
// they mean; the checker decodes them into its own struct with Decode
// (strictly: an unknown field or a wrong type is an *Error naming the file,
// line and field path, e.g. invariants[2].step), in two stages like
// Toxiproxy's toxics. The zero value holds no field.
type CheckerFields struct {
	node *yaml.Node // a mapping of the entries; nil when there are none
	path string     // the invariant's path, e.g. "invariants[2]"
	file string
	set  map[*yaml.Node]bool // nodes that came from --set
	src  *source             // where decoded fields record their lines
	ops  []string            // the profile's operation names; nil: not checked
}

// OpName is the name of one of the profile's operations (see
// Profile.OperationNames). A checker field of this type is checked by
// CheckerFields.Decode: a name the profile does not define is an error
// with the nearest match.
type OpName string

var (
	checkerFieldsType = reflect.TypeFor[CheckerFields]()
	opNameType        = reflect.TypeFor[OpName]()
)

// NewCheckerFields builds checker fields from a Go value (a map or a
// struct with yaml tags), for an Invariant built in code; a value that
// YAML cannot encode panics.
func NewCheckerFields(v any) CheckerFields {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic(fmt.Sprintf("profiles: NewCheckerFields: %v", err))
	}
	if n.Kind != yaml.MappingNode {
		panic(fmt.Sprintf("profiles: NewCheckerFields wants a mapping, got %T", v))
	}
	if len(n.Content) == 0 {
		return CheckerFields{}
	}
	return CheckerFields{node: &n}
}

// Has reports whether the field name is set.
func (f CheckerFields) Has(name string) bool {
	_, ok := f.entry(name)
	return ok
}

// Names lists the fields set, in file order.
func (f CheckerFields) Names() []string {
	if f.node == nil {
		return nil
	}
	var names []string
	for i := 0; i+1 < len(f.node.Content); i += 2 {
		names = append(names, f.node.Content[i].Value)
	}
	return names
}

// Text is the text of the scalar field name, or "" when it is absent or not
// a scalar.
func (f CheckerFields) Text(name string) string {
	v, ok := f.entry(name)
	for ok && v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if !ok || v.Kind != yaml.ScalarNode || isNull(v) {
		return ""
	}
	return v.Value
}

func (f CheckerFields) entry(name string) (*yaml.Node, bool) {
	if f.node == nil {
		return nil, false
	}
	for i := 0; i+1 < len(f.node.Content); i += 2 {
		if f.node.Content[i].Value == name {
			return f.node.Content[i+1], true
		}
	}
	return nil, false
}

// Decode decodes the fields of checker check into into, a pointer to the checker's fields
// struct (yaml tags name the fields), as strictly as the rest of the
// profile: a field that is neither the struct's nor the invariant's common
// one (name, check, query, op, unit, thing) is an error suggesting the
// nearest name; a wrong type is an error; an OpName must name one of the
// profile's operations. Every error is an *Error with the field's path
// (invariants[2].step) and line.
func (f CheckerFields) Decode(check string, into any) error {
	v := reflect.ValueOf(into)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("profiles: CheckerFields.Decode wants a pointer to a struct, got %T", into)
	}
	if f.node == nil {
		return nil
	}
	// Lines of the top-level fields were recorded when the profile was
	// parsed; this walk records into a copy of its own, so that Decode
	// never writes to a Profile that others may read.
	src := &source{file: f.file, lines: map[string]int{}, set: map[string]bool{}}
	w := &walker{file: f.file, set: f.set, src: src, budget: walkBudget, active: map[*yaml.Node]bool{},
		ops: f.ops, checker: check, alsoKnown: fieldsOf(reflect.TypeFor[Invariant]()).names}
	line := 0
	if len(f.node.Content) > 0 {
		line = f.node.Content[0].Line
	}
	if err := w.walk(f.node, v.Elem(), f.path, pos{line: line}); err != nil {
		return err
	}
	return nil
}

// Errorf builds an *Error positioned at the checker field name (its line,
// or the invariant's when the field is absent; "" names the invariant), for
// a checker's own rules:
//
//	inv.Fields.Errorf("amount", "must be a positive number")
func (f CheckerFields) Errorf(name, format string, args ...any) *Error {
	field := f.path
	if name != "" {
		field = joinPath(f.path, name)
	}
	line, set := 0, false
	if f.src != nil {
		for p := field; ; p = parentPath(p) {
			if l, ok := f.src.lines[p]; ok {
				line, set = l, f.src.set[p]
				break
			}
			if p == "" {
				break
			}
		}
	}
	return errorf(f.file, line, set, field, format, args...)
}

// collect adds a mapping entry the invariant does not declare.
func (f *CheckerFields) collect(key, val *yaml.Node) {
	if f.node == nil {
		f.node = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: key.Line}
	}
	f.node.Content = append(f.node.Content, key, val)
}

// restField is the index of t's CheckerFields field, or -1.
func restField(t reflect.Type) int {
	for i := range t.NumField() {
		if t.Field(i).Type == checkerFieldsType {
			return i
		}
	}
	return -1
}

// bindCheckerFields gives every invariant's checker fields what Decode
// needs: the file, the invariant's path, the lines and, once the profile
// is known, its operation names.
func (p *Profile) bindCheckerFields(set map[*yaml.Node]bool) {
	var ops []string
	if len(p.Operations) > 0 {
		ops = p.OperationNames()
		if ops == nil {
			ops = []string{}
		}
	}
	for i := range p.Invariants {
		f := &p.Invariants[i].Fields
		f.path, f.file, f.set, f.src, f.ops = indexPath("invariants", i), p.File(), set, p.src, slices.Clone(ops)
	}
}

// invariantCommon is Invariant without its checker fields, for marshalling.
type invariantCommon struct {
	Name  string `yaml:"name" json:"name"`
	Check string `yaml:"check,omitempty" json:"check,omitempty"`
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	Op    string `yaml:"op,omitempty" json:"op,omitempty"`
	Unit  string `yaml:"unit,omitempty" json:"unit,omitempty"`
	Thing string `yaml:"thing,omitempty" json:"thing,omitempty"`
}

func (i Invariant) common() invariantCommon {
	return invariantCommon{Name: i.Name, Check: i.Check, Query: i.Query, Op: i.Op, Unit: i.Unit, Thing: i.Thing}
}

// MarshalYAML writes the common fields, then the checker's as they were
// given.
func (i Invariant) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := n.Encode(i.common()); err != nil {
		return nil, err
	}
	if i.Fields.node != nil {
		n.Content = append(n.Content, i.Fields.node.Content...)
	}
	return &n, nil
}

// MarshalJSON writes the common fields, then the checker's in file order.
func (i Invariant) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(i.common())
	if err != nil || i.Fields.node == nil {
		return b, err
	}
	var out bytes.Buffer
	out.Write(b[:len(b)-1])
	for k := 0; k+1 < len(i.Fields.node.Content); k += 2 {
		var v any
		if err := i.Fields.node.Content[k+1].Decode(&v); err != nil {
			return nil, fmt.Errorf("invariant %q: field %s: %w", i.Name, i.Fields.node.Content[k].Value, err)
		}
		kb, _ := json.Marshal(i.Fields.node.Content[k].Value)
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("invariant %q: field %s: %w", i.Name, i.Fields.node.Content[k].Value, err)
		}
		out.WriteByte(',')
		out.Write(kb)
		out.WriteByte(':')
		out.Write(vb)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
