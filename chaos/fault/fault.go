// Package fault is the registry of collide's fault kinds: for each kind,
// registered once by name in its own file, the fields a profile's chaos
// entry may give it, their defaults and checks, and the attributes of the
// Toxiproxy toxic it becomes — in the manner of Toxiproxy's toxics
// registry.
//
// A chaos entry is decoded in two stages (package profiles): the fields
// every fault has (link, fault, stream, toxicity, from, for) first, then
// the remaining fields into a copy of the kind's registered defaults, which
// then checks itself (Params.Validate). Package chaos turns the result into
// a toxic (Kind.Toxic).
//
// This package imports nothing of collide, so that both profiles (which
// decodes faults) and chaos (which applies them) may import it.
package fault

import (
	"embed"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// Params are the decoded fields of one fault kind: a struct whose exported
// fields carry yaml tags (the field names in profiles) and are of a type a
// profile can spell: time.Duration (written 250ms, 2s), an integer, a
// float, a bool or a string. Doc comments on the fields become the profile JSON
// Schema's descriptions.
type Params interface {
	// Validate checks the fields, defaults applied. An error about one
	// field is a *FieldError (see Errorf), so that the profile loader can
	// name its file, line and path.
	Validate() error
	// Attributes are the toxic's attributes in Toxiproxy's units
	// (durations in whole milliseconds, rates in KB/s, sizes in bytes).
	// Params have passed Validate.
	Attributes() map[string]any
}

// WireParams are the Params of a kind that collide's SQL wire-protocol tap
// (package chaos/tap) injects rather than Toxiproxy: it applies only on the
// database link, to a database whose wire protocol the tap decodes, and
// reads neither stream nor toxicity.
type WireParams interface {
	Params
	// Wire marks the kind; it does nothing.
	Wire()
}

// FieldError is a problem with one field of a kind's Params.
type FieldError struct {
	// Field is the field's name as written in profiles, e.g. "jitter".
	Field string
	// Msg says what is wrong, e.g. "must be > 0".
	Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errorf builds a *FieldError for field.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Kind is one registered fault kind.
type Kind struct {
	name     string
	defaults reflect.Value // the registered Params struct value
}

// Name is the fault name used in profiles, e.g. "latency"; it is also the
// Toxiproxy toxic type.
func (k *Kind) Name() string { return k.name }

// Wire reports whether the kind is a fault of the SQL wire-protocol tap
// (its Params are WireParams), not a Toxiproxy toxic.
func (k *Kind) Wire() bool { _, ok := k.defaults.Interface().(WireParams); return ok }

// Type is the kind's Params struct type.
func (k *Kind) Type() reflect.Type { return k.defaults.Type() }

// New returns a pointer to a fresh copy of the kind's defaults (a *T for
// Params type T), for decoding fields into. The value registered is the only
// place a kind's defaults are written.
func (k *Kind) New() Params {
	p := reflect.New(k.defaults.Type())
	p.Elem().Set(k.defaults)
	return p.Interface().(Params)
}

// Fields lists the kind's field names as written in profiles, in
// declaration order.
func (k *Kind) Fields() []string {
	t := k.defaults.Type()
	var out []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// Toxic returns the Toxiproxy toxic type and attributes of p, which must be
// the kind's Params (a T or *T) and have passed Validate.
func (k *Kind) Toxic(p Params) (toxicType string, attrs map[string]any) {
	return k.name, p.Attributes()
}

// Check checks that p is this kind's Params type (a T or *T; nil means the
// defaults) and valid, and returns it as a value of type T.
func (k *Kind) Check(p Params) (Params, error) {
	if p == nil {
		p = k.New()
	}
	v := reflect.ValueOf(p)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Type() != k.defaults.Type() {
		return nil, fmt.Errorf("fault: %s takes %s, not %T", k.name, k.defaults.Type(), p)
	}
	p = v.Interface().(Params)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

var registry = struct {
	sync.RWMutex
	kinds map[string]*Kind
}{kinds: map[string]*Kind{}}

// Register makes a fault kind available by name, with defaults as its
// Params (a struct value; the zero value when nothing defaults). It panics
// on an empty or already registered name, or defaults that are not a
// struct: programming errors.
func Register[P Params](name string, defaults P) {
	v := reflect.ValueOf(defaults)
	if name == "" {
		panic("fault: Register of a kind with an empty name")
	}
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("fault: Register(%q): defaults must be a struct, not %T", name, defaults))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[name]; dup {
		panic("fault: Register called twice for fault " + name)
	}
	registry.kinds[name] = &Kind{name: name, defaults: v}
}

// Unregister removes a kind; for tests that register one of their own.
func Unregister(name string) {
	registry.Lock()
	delete(registry.kinds, name)
	registry.Unlock()
}

// Lookup returns the registered kind called name. An unknown name gives an
// error that lists the known names.
func Lookup(name string) (*Kind, error) {
	registry.RLock()
	k, ok := registry.kinds[name]
	registry.RUnlock()
	if !ok {
		if name == "" {
			return nil, fmt.Errorf("required (one of %s)", strings.Join(Names(), ", "))
		}
		return nil, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return k, nil
}

// Names lists the registered fault names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.kinds))
	for n := range registry.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Sources are this package's Go files: the profile JSON Schema takes each
// kind's field descriptions from their doc comments (the binary needs no
// source tree).
//
//go:embed *.go
var Sources embed.FS

// yamlName is a struct field's name in profiles, "" if it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// ms converts d to the whole milliseconds Toxiproxy takes (truncating).
func ms(d time.Duration) int64 { return d.Milliseconds() }

// checkMillis checks a duration that Toxiproxy takes in whole milliseconds.
// required: it must be > 0; otherwise it must be 0 or at least 1ms.
func checkMillis(field string, d time.Duration, required bool) error {
	switch {
	case d < 0:
		return Errorf(field, "must not be negative, got %s", d)
	case d == 0 && required:
		return Errorf(field, "must be > 0")
	case d > 0 && d < time.Millisecond:
		return Errorf(field, "must be at least 1ms (Toxiproxy works in whole milliseconds), got %s", d)
	}
	return nil
}
