package harness

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos"
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
		if err := chaos.Validate(f); err != nil {
			return nil, &ProfileError{p.Errorf(field, "%v", err)}
		}
		if f.Link == "database" && p.Database.Driver == "sqlite" {
			return nil, &ProfileError{p.Errorf(field+".link", "the database link needs a networked database: sqlite runs inside the service (use driver: postgres)")}
		}
		if f.Link == "database" && !startsService(p) {
			return nil, &ProfileError{p.Errorf(field+".link", "the database link needs a service collide starts (target.demo, target.command or target.container), so that the service connects through the link")}
		}
		pl.links[f.Link] = true
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
