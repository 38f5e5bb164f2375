package harness

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all" // every driver a profile may name
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// plan is a profile compiled for running: every template, fault and checker
// checked, so that nothing about the profile can fail once I/O has begun.
type plan struct {
	specs    []*attacks.Spec
	checkers []invariants.Checker
	// setup and teardown are the compiled steps.
	setup, teardown []*stepPlan
	// links names the chaos links the profile uses ("target", "database").
	links map[string]bool
	// tap: a fault of the SQL wire-protocol tap is used (on the database
	// link), so the link is service → tap → Toxiproxy → database.
	tap bool
	// attackLen is the longest operation's duration.
	attackLen time.Duration
}

// Validate checks everything about p that can be checked without I/O:
// request templates, fault kinds and their fields, checkers and their
// expressions. Errors are *ProfileError naming file, line and field.
func Validate(p *profiles.Profile) error {
	_, err := compile(p)
	return err
}

func compile(p *profiles.Profile) (*plan, error) {
	pl := &plan{links: map[string]bool{}}
	for i, f := range p.Chaos {
		field := fmt.Sprintf("chaos[%d]", i)
		// A loaded profile's faults were checked by the loader; Spec checks
		// the kind and fields of one built in code.
		if _, _, err := f.Spec(); err != nil {
			if fe, ok := errors.AsType[*fault.FieldError](err); ok {
				return nil, &ProfileError{p.Errorf(field+"."+fe.Field, "%s", fe.Msg)}
			}
			return nil, &ProfileError{p.Errorf(field, "%v", err)}
		}
		if f.Link == "database" {
			if err := networked(p.Database.Driver, p.Target.Demo != nil); err != nil {
				return nil, &ProfileError{p.Errorf(field+".link", "%v", err)}
			}
		}
		if err := f.CheckWire(p.Database.Driver); err != nil {
			fe, _ := err.(*fault.FieldError)
			return nil, &ProfileError{p.Errorf(field+"."+fe.Field, "%s", fe.Msg)}
		}
		if k, _ := fault.Lookup(f.Fault); k.Wire() {
			if p.Target.Container != nil {
				return nil, &ProfileError{p.Errorf(field+".fault", "fault %s is not available with target.container: the container's database link runs inside its network, where collide's SQL tap cannot sit", f.Fault)}
			}
			pl.tap = true
		}
		if f.Link == "database" && !startsService(p) {
			return nil, &ProfileError{p.Errorf(field+".link", "the database link needs a service collide starts (target.demo, target.command or target.container), so that the service connects through the link")}
		}
		pl.links[f.Link] = true
	}
	if pl.links["database"] {
		if err := checkLinkDSN(p); err != nil {
			return nil, err
		}
	}
	vars := map[string]bool{}
	var err error
	if pl.setup, err = compileSteps(p, "setup", p.Setup, vars); err != nil {
		return nil, err
	}
	runVars := p.Vars()
	teardownVars := make(map[string]bool, len(vars))
	for n := range vars {
		teardownVars[n] = true
	}
	if pl.teardown, err = compileSteps(p, "teardown", p.Teardown, teardownVars); err != nil {
		return nil, err
	}
	specs, err := attacks.NewSpecs(p.Operations, runVars...)
	if err != nil {
		var oe *attacks.OpError
		if errors.As(err, &oe) {
			field, msg := splitField(oe.Err.Error())
			return nil, &ProfileError{p.Errorf(fmt.Sprintf("operations[%d]%s", oe.Index, field), "%s", msg)}
		}
		return nil, &ProfileError{p.Errorf("operations", "%v", err)}
	}
	pl.specs = specs
	for _, op := range p.Operations {
		if d := op.Duration.D(); d > pl.attackLen {
			pl.attackLen = d
		}
	}
	for i, inv := range p.Invariants {
		c, err := invariants.New(inv)
		if err != nil {
			var pe *profiles.Error
			if errors.As(err, &pe) {
				return nil, &ProfileError{pe}
			}
			// Expression errors carry a multi-line source excerpt; keep the
			// first line so the error stays one line.
			msg, _, _ := strings.Cut(err.Error(), "\n")
			return nil, &ProfileError{p.Errorf(fmt.Sprintf("invariants[%d]", i), "%s", msg)}
		}
		for _, q := range invariantQueries(inv, c) {
			if err := checkBind(p, q.text, vars); err != nil {
				return nil, &ProfileError{p.Errorf(fmt.Sprintf("invariants[%d].%s", i, q.field), "%v", err)}
			}
		}
		if err := checkNamedOps(p, i, c); err != nil {
			return nil, err
		}
		pl.checkers = append(pl.checkers, c)
	}
	return pl, nil
}

// networked returns nil when the named driver's database is reached over
// a network, so that a database link can stand in front of it, and else
// the reason (SQLite runs inside the service). An unknown driver is left
// to profile validation. demo: the target is the demo service, and the
// drivers suggested instead are those it runs on.
func networked(driver string, demo bool) error {
	d, err := database.Lookup(driver)
	if err != nil || !d.Features().InProcess {
		return nil
	}
	_, _, err = d.Address("")
	if err == nil {
		err = database.ErrNoNetwork
	}
	others := database.NamesWhere(func(o database.Driver) bool {
		return !o.Features().InProcess && (!demo || o.Features().Demo)
	})
	return fmt.Errorf("the database link needs a networked database: %v (use driver: %s)", err, database.Join(others))
}

// checkLinkDSN checks, before anything starts, that the database link can
// be put in front of database.dsn: the driver finds its TCP address and
// can rewrite it to go through a proxy. A DSN left to a container is
// checked when the container gives one.
func checkLinkDSN(p *profiles.Profile) error {
	d, err := database.Lookup(p.Database.Driver)
	dsn := p.Database.DSN
	if err != nil || dsn == "" {
		return nil
	}
	network, addr, err := d.Address(dsn)
	if err == nil && network != "tcp" {
		return &ProfileError{p.Errorf("database.dsn", "the database link needs a TCP address, but this %s DSN connects to the %s socket %s", d.Name(), network, addr)}
	}
	if err == nil {
		_, err = d.Through(dsn, "127.0.0.1:1")
	}
	if err != nil {
		return &ProfileError{p.Errorf("database.dsn", "driver %s cannot put the database link in front of %s: %v", d.Name(), database.Redact(d.Name(), dsn), err)}
	}
	return nil
}

// invQuery is a query an invariant runs, by its field.
type invQuery struct{ field, text string }

// invariantQueries are the queries an invariant runs: its query and those
// of its checker's own fields (invariants.Querier), in field order.
func invariantQueries(inv profiles.Invariant, c invariants.Checker) []invQuery {
	qs := []invQuery{{"query", inv.Query}}
	if q, ok := c.(invariants.Querier); ok {
		own := q.Queries()
		for _, f := range slices.Sorted(maps.Keys(own)) {
			qs = append(qs, invQuery{f, own[f]})
		}
	}
	return qs
}

// splitField turns "request.url: msg" into (".request.url", "msg").
func splitField(s string) (string, string) {
	if f, msg, ok := strings.Cut(s, ": "); ok && !strings.ContainsAny(f, " \"") {
		return "." + f, msg
	}
	return "", s
}

// checkNamedOps rejects an operation name in an invariant's expression
// (ok("incrr")) that the profile does not define, with the nearest match.
func checkNamedOps(p *profiles.Profile, i int, c invariants.Checker) error {
	on, ok := c.(invariants.OperationNamer)
	if !ok || len(p.Operations) == 0 {
		return nil
	}
	known := p.OperationNames()
	for _, name := range on.OperationsNamed() {
		if !slices.Contains(known, name) {
			return &ProfileError{p.Errorf(fmt.Sprintf("invariants[%d].expect", i), "%s", profiles.UnknownName("operation", "operations", name, known))}
		}
	}
	return nil
}
