package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/database"
)

// decodeFault decodes a chaos entry in two stages, as Toxiproxy decodes a
// toxic: the fields every fault has (those of Fault) first, then the rest
// into the Params of the kind the entry names, strictly — a field that is
// neither is an *Error at its line and path (chaos[1].latency) listing what
// the kind takes — and has the kind check them (fault.Params.Validate),
// placing the error at the field it names. A missing fault name is left to
// validation (chaos[i].fault: required).
func (w *walker) decodeFault(n *yaml.Node, f *Fault, path string, at pos) *Error {
	if n.Kind != yaml.MappingNode {
		return w.errAt(at, path, "want a mapping of fields, got %s", describe(n))
	}
	entries, err := w.entries(n, path, at)
	if err != nil {
		return err
	}
	common := fieldsOf(reflect.TypeFor[Fault]())
	v := reflect.ValueOf(f).Elem()
	var own []entry
	for _, e := range entries {
		if i, ok := common.index[e.key.Value]; ok {
			if err := w.walk(e.val, v.Field(i), joinPath(path, e.key.Value), w.fieldPos(e.key, e.val)); err != nil {
				return err
			}
			continue
		}
		own = append(own, e)
	}
	if f.Fault == "" {
		return nil
	}
	kind, lerr := fault.Lookup(f.Fault)
	if lerr != nil {
		return w.errAt(w.posOf(path+".fault", at), path+".fault", "%v", lerr)
	}
	params := kind.New()
	pv := reflect.ValueOf(params).Elem()
	fields := fieldsOf(pv.Type())
	for _, e := range own {
		name, fp := e.key.Value, joinPath(path, e.key.Value)
		i, ok := fields.index[name]
		if !ok {
			return w.errAt(pos{line: e.key.Line, set: w.set[e.key]}, fp, "unknown field%s", kindSuggest(name, kind, common.names))
		}
		if err := w.walk(e.val, pv.Field(i), fp, w.fieldPos(e.key, e.val)); err != nil {
			return err
		}
	}
	checked, verr := kind.Check(params)
	if verr != nil {
		field, msg := path, verr.Error()
		if fe, ok := errors.AsType[*fault.FieldError](verr); ok {
			field, msg = joinPath(path, fe.Field), fe.Msg
		}
		return w.errAt(w.posOf(field, at), field, "%s", msg)
	}
	f.Params = checked
	return nil
}

// kindSuggest completes an "unknown field" message on a fault of kind k:
// the closest field name of the kind or of every fault, or what the kind
// takes.
func kindSuggest(name string, k *fault.Kind, common []string) string {
	if s := suggest(name, append(k.Fields(), common...)); strings.HasPrefix(s, " (did you mean") {
		return s
	}
	if len(k.Fields()) == 0 {
		return fmt.Sprintf(" (fault %s takes no fields of its own)", k.Name())
	}
	return fmt.Sprintf(" (fault %s takes: %s)", k.Name(), strings.Join(k.Fields(), ", "))
}

// posOf is the position recorded for path, or at when path was not decoded
// (a field absent from the file).
func (w *walker) posOf(path string, at pos) pos {
	if l, ok := w.src.lines[path]; ok {
		return pos{line: l, set: w.src.set[path]}
	}
	return at
}

// Spec returns the fault's kind and its Params checked by the kind: those
// the loader decoded or, in a Fault built in code without them, the kind's
// defaults. An unknown kind, or a problem with one of the kind's fields, is
// a *fault.FieldError naming the field ("fault", "latency" …).
func (f Fault) Spec() (*fault.Kind, fault.Params, error) {
	kind, err := fault.Lookup(f.Fault)
	if err != nil {
		return nil, nil, &fault.FieldError{Field: "fault", Msg: err.Error()}
	}
	p, err := kind.Check(f.Params)
	if err != nil {
		return nil, nil, err
	}
	return kind, p, nil
}

// CheckWire checks a fault of collide's SQL wire-protocol tap (a kind whose
// Wire is true; nil for any other) against where it must run: on the
// database link, with a driver whose wire protocol the tap decodes
// (database.Features.Wire), without stream or toxicity (the tap faults
// every connection). The error is a *fault.FieldError naming the field.
func (f Fault) CheckWire(driver string) error {
	kind, err := fault.Lookup(f.Fault)
	if err != nil || !kind.Wire() {
		return nil
	}
	switch {
	case f.Link != "database":
		return fault.Errorf("link", "fault %s works on link database only: collide's SQL tap injects it between the service and its database", f.Fault)
	case f.Stream != "" && f.Stream != "downstream":
		return fault.Errorf("stream", "not read by fault %s: it cuts the connection in both directions", f.Fault)
	case f.Toxicity != nil && *f.Toxicity != 1:
		return fault.Errorf("toxicity", "not read by fault %s: it applies to every connection that reaches its statement", f.Fault)
	}
	drv, err := database.Lookup(driver)
	if err != nil {
		return nil // database.driver has its own error
	}
	if drv.Features().Wire == "" {
		wired := database.NamesWhere(func(d database.Driver) bool { return d.Features().Wire != "" })
		return fault.Errorf("fault", "%s needs a database whose SQL wire protocol collide's tap decodes (driver: %s), not driver %s", f.Fault, database.Join(wired), driver)
	}
	return nil
}

// faultFields is Fault without its methods: its common fields as they
// marshal.
type faultFields Fault

// MarshalJSON writes the fault as one object, as in YAML: the common
// fields, then the kind's own, durations as text (20ms).
func (f Fault) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(faultFields(f))
	if err != nil || f.Params == nil {
		return b, err
	}
	own, err := json.Marshal(portable(f.Params))
	if err != nil {
		return nil, fmt.Errorf("chaos entry %s: %w", f.Fault, err)
	}
	if len(own) <= 2 { // {}
		return b, nil
	}
	return append(append(b[:len(b)-1], ','), own[1:]...), nil
}

// MarshalYAML writes the fault as one mapping: the common fields, then the
// kind's own, durations as text (20ms).
func (f Fault) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := n.Encode(faultFields(f)); err != nil {
		return nil, err
	}
	if f.Params == nil {
		return &n, nil
	}
	var own yaml.Node
	if err := own.Encode(portable(f.Params)); err != nil {
		return nil, fmt.Errorf("chaos entry %s: %w", f.Fault, err)
	}
	n.Content = append(n.Content, own.Content...)
	return &n, nil
}

var portableTypes sync.Map // reflect.Type → reflect.Type

// portable copies a kind's Params into a struct of the same fields and tags
// in which every time.Duration is a Duration, so that it marshals as a
// profile spells durations.
func portable(p fault.Params) any {
	v := reflect.ValueOf(p)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	t := v.Type()
	pt, ok := portableTypes.Load(t)
	if !ok {
		fields := make([]reflect.StructField, 0, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Type == reflect.TypeFor[time.Duration]() {
				f.Type = reflect.TypeFor[Duration]()
			}
			f.Index, f.Offset = nil, 0
			fields = append(fields, f)
		}
		pt, _ = portableTypes.LoadOrStore(t, reflect.StructOf(fields))
	}
	out := reflect.New(pt.(reflect.Type)).Elem()
	for i := range out.NumField() {
		f := out.Type().Field(i)
		out.Field(i).Set(v.FieldByName(f.Name).Convert(f.Type))
	}
	return out.Interface()
}
