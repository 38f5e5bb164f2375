package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// checkStatements checks every invariant query (query and unique) on db
// without running it — PostgreSQL and MySQL prepare it, SQLite compiles it,
// Redis looks the command up — so that a typo in a table or column name
// stops the run before any load. A statement the database rejects is a
// *ProfileError naming the invariant's field; a database that cannot be
// asked is an *EnvError.
func checkStatements(ctx context.Context, p *profiles.Profile, checkers []invariants.Checker, db database.DB) error {
	for i, inv := range p.Invariants {
		var c invariants.Checker
		if i < len(checkers) {
			c = checkers[i]
		}
		for _, q := range invariantQueries(inv, c) {
			if strings.TrimSpace(q.text) == "" {
				continue
			}
			checked, err := invariants.CheckStatement(ctx, db, q.text)
			if !checked {
				return nil // the driver cannot check statements
			}
			var se *database.StatementError
			switch {
			case errors.As(err, &se):
				return &ProfileError{p.Errorf(fmt.Sprintf("invariants[%d].%s", i, q.field), "%v", se)}
			case err != nil:
				return envErr("setup", fmt.Errorf("invariants[%d].%s: check the statement: %w", i, q.field, err))
			}
		}
		if i < len(checkers) && strings.TrimSpace(inv.Query) != "" {
			if err := checkColumns(ctx, p, i, checkers[i], db); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkColumns rejects a column an invariant's expression reads (value,
// before.value) that its query does not return, with the nearest match.
func checkColumns(ctx context.Context, p *profiles.Profile, i int, c invariants.Checker, db database.DB) error {
	cr, ok := c.(invariants.ColumnReader)
	if !ok {
		return nil
	}
	read := cr.ColumnsRead()
	if len(read) == 0 {
		return nil
	}
	cols, ok := invariants.ResultColumns(ctx, db, p.Invariants[i].Query)
	if !ok {
		return nil // the check itself will say
	}
	for _, name := range read {
		if slices.Contains(cols, name) {
			continue
		}
		hint := ""
		if best, ok := profiles.Nearest(name, cols); ok {
			hint = fmt.Sprintf(" (did you mean %q?)", best)
		}
		return &ProfileError{p.Errorf(fmt.Sprintf("invariants[%d].expect", i), "the expression reads %s, but the query returns only the columns %s%s", name, strings.Join(cols, ", "), hint)}
	}
	return nil
}

// queryCheckTimeout bounds CheckQueries: connecting and preparing.
const queryCheckTimeout = 15 * time.Second

// CheckQueries connects to the profile's database and checks its invariant
// queries there without running them (validate -connect). It applies only
// where the database already holds the service's tables: a url target
// with a DSN and no SQL setup step. Otherwise it returns why it did not
// check (the run checks them at its start, after setup, before the
// attack). A rejected statement is a *ProfileError; a database that is
// remote without allowRemote is a *ProfileError too; one that cannot be
// reached an *EnvError.
func CheckQueries(ctx context.Context, p *profiles.Profile, allowRemote bool) (skipped string, err error) {
	switch {
	case p.Target.URL == "":
		return "the service creates its tables when collide starts it: the queries are checked at run start, after setup", nil
	case strings.TrimSpace(p.Database.DSN) == "":
		return "no database.dsn to connect to: the queries are checked at run start", nil
	}
	for _, st := range p.Setup {
		if strings.TrimSpace(st.SQL) != "" {
			return "setup runs SQL first: the queries are checked at run start, after setup", nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, queryCheckTimeout)
	defer cancel()
	if !allowRemote && !p.AllowRemote {
		if err := (&run{p: p}).checkLocal(ctx, p.Database.DSN); err != nil {
			return "", err
		}
	}
	db, err := database.Open(ctx, p.Database.Driver, p.Database.DSN)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("database %s: %w", database.Redact(p.Database.Driver, p.Database.DSN), err))
	}
	defer db.Close()
	// Setup captures are unknown here: bind every variable to a dummy
	// value, so that {{id}} becomes the driver's bind parameter.
	vars := map[string]string{}
	for _, n := range p.Vars() {
		vars[n] = ""
	}
	pl, err := compile(p)
	if err != nil {
		return "", err
	}
	return "", checkStatements(ctx, p, pl.checkers, invariants.BindVars(db, vars))
}
