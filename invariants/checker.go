package invariants

import (
	"context"
	"fmt"
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

// Factory builds a checker from a profile invariant. It compiles and
// validates everything it can, so a bad invariant fails when the profile is
// loaded, not after the attack.
type Factory func(inv profiles.Invariant) (Checker, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a checker available under name. It panics if name is empty,
// f is nil or name is taken, like database/sql.Register.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if name == "" || f == nil {
		panic("invariants: Register needs a name and a factory")
	}
	if _, dup := registry[name]; dup {
		panic("invariants: checker " + name + " registered twice")
	}
	registry[name] = f
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
// "expect" if Expect is set, "unique" if Unique is set. It returns "" when
// nothing selects a checker or when both Expect and Unique are set without
// Check.
func CheckName(inv profiles.Invariant) string {
	if inv.Check != "" {
		return inv.Check
	}
	switch {
	case inv.Expect != "" && inv.Unique != "":
		return ""
	case inv.Expect != "":
		return "expect"
	case inv.Unique != "":
		return "unique"
	}
	return ""
}

// New builds the checker for inv, compiling and validating it.
func New(inv profiles.Invariant) (Checker, error) {
	label := inv.Name
	if label == "" {
		label = firstNonEmpty(inv.Expect, inv.Unique, inv.Query)
	}
	known := strings.Join(Names(), ", ")
	name := CheckName(inv)
	if name == "" {
		if inv.Expect != "" && inv.Unique != "" {
			return nil, fmt.Errorf("invariant %q: both expect and unique are set: split it in two invariants or name the checker with check (known: %s)", label, known)
		}
		return nil, fmt.Errorf("invariant %q: no checker: set expect, unique or check (known: %s)", label, known)
	}
	regMu.RLock()
	f := registry[name]
	regMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("invariant %q: unknown checker %q (known: %s)", label, name, known)
	}
	c, err := f(inv)
	if err != nil {
		return nil, fmt.Errorf("invariant %q: %s: %w", label, name, err)
	}
	return c, nil
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
