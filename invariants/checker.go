package invariants

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// Env is what a checker may look at.
type Env struct {
	// DB is the database under test, connected directly (not through chaos).
	DB database.DB
	// Tally holds the outcome counts per operation name.
	Tally *history.Tally
	// HistoryPath is the run's history.jsonl, for checkers that need every op.
	HistoryPath string
	// Operations, when set, are the operation names of the profile. History
	// functions in expressions (ok("x") …) must name one of them; an
	// operation that sent no request then counts zero. When nil, the names
	// seen in Tally are the known ones, so a typo is an error rather than a
	// silent zero.
	Operations []string
}

// Checker checks one invariant after the attack.
//
// Check never returns Pass when it could not look: a query error, a closed
// database, an expression that fails or is not a boolean all give Verdict
// Error with Result.Error set.
type Checker interface {
	Check(ctx context.Context, env *Env) Result
}

// Preparer is implemented by checkers that must observe the state after setup
// and before the attack (for example expect, whose expression may read
// `before`). The harness calls Prepare once, after setup and before any
// request is sent, with the same Env it later passes to Check (Tally may be
// empty then). A Prepare error is also reported by the later Check as an
// error verdict.
type Preparer interface {
	Prepare(ctx context.Context, env *Env) error
}

// Use says whether a checker reads one of the invariant's common fields
// (query, op).
type Use int

const (
	// Unused: the checker does not read the field; setting it is an error.
	Unused Use = iota
	// Optional: the checker reads the field when it is set.
	Optional
	// Required: the field must be set.
	Required
)

// Kind is one kind of checker, registered once by name with Register. F is
// the struct of the checker's own fields: their yaml tags name them in the
// profile, their jsonschema_description tags describe them in the
// JSON Schema. A profile invariant's fields other than the common ones
// (name, check, query, op, unit, thing) are decoded into a fresh F,
// strictly: a field F does not declare is an error naming the file, line
// and field path. A field of type profiles.OpName must name an operation of
// the profile.
type Kind[F any] struct {
	// Name is the checker's name, the profile's check: value.
	Name string
	// About is one line on what the checker proves (docs, the JSON Schema).
	About string
	// Query and Op say whether the checker reads the invariant's query and
	// op.
	Query, Op Use
	// Shorthand makes a field of F named Name select this checker when the
	// invariant has no check: (expect: …, unique: …).
	Shorthand bool
	// New builds the checker from the invariant and its decoded fields,
	// with F's defaults applied (see Defaulter). It validates everything
	// it can, so a bad invariant fails when the profile is loaded, not
	// after the attack; an error about one field is best built with
	// inv.Fields.Errorf(field, …), which names its line.
	New func(inv profiles.Invariant, f *F) (Checker, error)
}

// Defaulter is implemented by a fields struct (a pointer to it) with
// defaults: Defaults fills in the fields the profile left empty, after
// decoding and before Kind.New.
type Defaulter interface {
	Defaults()
}

// kind is a registered Kind without its type parameter.
type kind struct {
	name, about string
	query, op   Use
	shorthand   bool
	fields      reflect.Type // the fields struct
	build       func(inv profiles.Invariant) (Checker, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]*kind{}
)

// Register makes a checker kind available under k.Name. It panics if the
// name is empty, k.New is nil, F is not a struct or the name is taken, like
// database/sql.Register.
func Register[F any](k Kind[F]) {
	ft := reflect.TypeFor[F]()
	if k.Name == "" || k.New == nil || ft.Kind() != reflect.Struct {
		panic("invariants: Register needs a name, a New function and a fields struct")
	}
	rk := &kind{name: k.Name, about: k.About, query: k.Query, op: k.Op, shorthand: k.Shorthand, fields: ft}
	rk.build = func(inv profiles.Invariant) (Checker, error) {
		if err := rk.checkCommon(inv); err != nil {
			return nil, err
		}
		f := new(F)
		if err := inv.Fields.Decode(k.Name, f); err != nil {
			return nil, err
		}
		if d, ok := any(f).(Defaulter); ok {
			d.Defaults()
		}
		return k.New(inv, f)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[k.Name]; dup {
		panic("invariants: checker " + k.Name + " registered twice")
	}
	registry[k.Name] = rk
	profiles.RegisterCheckerSchema(profiles.CheckerSchema{Name: k.Name, About: k.About, Query: k.Query != Unused, Op: k.Op != Unused, Shorthand: k.Shorthand, Fields: ft})
}

// checkCommon rejects a common field the checker does not read and a
// required one that is empty.
func (k *kind) checkCommon(inv profiles.Invariant) error {
	for _, c := range []struct {
		field string
		use   Use
		set   bool
	}{{"query", k.query, strings.TrimSpace(inv.Query) != ""}, {"op", k.op, inv.Op != ""}} {
		switch {
		case c.set && c.use == Unused:
			return inv.Fields.Errorf(c.field, "%s is not read by checker %s (it reads %s)", c.field, k.name, strings.Join(k.reads(), ", "))
		case !c.set && c.use == Required:
			return fmt.Errorf("%s is required by checker %s", c.field, k.name)
		}
	}
	return nil
}

// reads lists the fields the checker reads: the common ones it uses, then
// its own.
func (k *kind) reads() []string {
	var out []string
	if k.query != Unused {
		out = append(out, "query")
	}
	if k.op != Unused {
		out = append(out, "op")
	}
	return append(out, fieldNames(k.fields)...)
}

// fieldNames are the yaml names of a fields struct's fields.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
	}
	return names
}

// Names returns the registered checker names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckName is the checker an invariant selects: inv.Check, or when empty
// the checker registered with Shorthand whose field the invariant sets
// (expect: … selects expect, unique: … unique). It returns "" when nothing
// selects a checker or when two shorthand fields are set without Check.
func CheckName(inv profiles.Invariant) string {
	if inv.Check != "" {
		return inv.Check
	}
	if set := shorthands(inv); len(set) == 1 {
		return set[0]
	}
	return ""
}

// shorthands are the shorthand checkers whose field inv sets, sorted.
func shorthands(inv profiles.Invariant) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var set []string
	for name, k := range registry {
		if k.shorthand && inv.Fields.Has(name) {
			set = append(set, name)
		}
	}
	sort.Strings(set)
	return set
}

// New builds the checker for inv, decoding its fields, compiling and
// validating it. An error about one field of the checker is a
// *profiles.Error naming it (and its line, for a parsed profile).
func New(inv profiles.Invariant) (Checker, error) {
	label := inv.Name
	if label == "" {
		label = firstNonEmpty(inv.Query, CheckName(inv))
	}
	known := strings.Join(Names(), ", ")
	name := CheckName(inv)
	if name == "" {
		if set := shorthands(inv); len(set) > 1 {
			return nil, inv.Fields.Errorf("", "both %s are set: split it in two invariants or name the checker with check", strings.Join(set, " and "))
		}
		return nil, inv.Fields.Errorf("", "nothing to check: set %s or check", strings.Join(shorthandNames(), ", "))
	}
	regMu.RLock()
	k := registry[name]
	regMu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("invariant %q: unknown checker %q (known: %s)", label, name, known)
	}
	c, err := k.build(inv)
	if err != nil {
		var pe *profiles.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, fmt.Errorf("invariant %q: %s: %w", label, name, err)
	}
	return c, nil
}

// shorthandNames are the checkers that a field of their name selects.
func shorthandNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for name, k := range registry {
		if k.shorthand {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// OperationNamer is implemented by checkers whose configuration names
// operations beyond the invariant's op, read_op and write_op fields (which
// the profile loader checks): expect's ok("incr"), fail("incr") ….
// OperationsNamed returns those names, in the order they appear, so that
// the harness rejects a name the profile does not define before any load.
type OperationNamer interface {
	OperationsNamed() []string
}

// Querier is implemented by checkers that run a query of their own field
// (unique: …) besides the invariant's query. Queries returns it by field
// name, so that the harness checks its variables and asks the database
// whether it parses before any load.
type Querier interface {
	Queries() map[string]string
}
