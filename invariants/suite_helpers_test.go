package invariants

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
)

// openSQLiteTest opens a fresh SQLite file in the test's temp dir.
func openSQLiteTest(t *testing.T) DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresOpener creates one private PostgreSQL database (see testpg) for
// parent and returns an opener that gives each test its own schema in it:
// creating a database per test is slow, a schema is cheap.
func postgresOpener(parent *testing.T) func(t *testing.T) DB {
	parent.Helper()
	dsn := testpg.New(parent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := Open(ctx, "postgres", dsn)
	if err != nil {
		parent.Fatalf("open postgres: %v", err)
	}
	parent.Cleanup(func() { admin.Close() }) // before testpg drops the database
	var n atomic.Int64
	return func(t *testing.T) DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		schema := fmt.Sprintf("case_%d", n.Add(1))
		if err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err := Open(ctx, "postgres", dsn+sep+"search_path="+schema)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// drivers are the adapters every shared suite runs on; opener is called once
// per suite and returns a function giving each test a fresh, empty database.
var drivers = []struct {
	name   string
	opener func(parent *testing.T) func(t *testing.T) DB
}{
	{"sqlite", func(*testing.T) func(*testing.T) DB { return openSQLiteTest }},
	{"postgres", postgresOpener},
}

func mustExec(t *testing.T, db DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if err := db.Exec(context.Background(), s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// counts is ok, fail, unknown.
type counts [3]int

// newTally builds a tally with the given outcome counts per operation.
func newTally(byOp map[string]counts) *history.Tally {
	t := history.NewTally()
	for op, c := range byOp {
		for i, o := range []history.Outcome{history.OK, history.Fail, history.Unknown} {
			for range c[i] {
				t.Add(&history.Op{Op: op, Outcome: o})
			}
		}
	}
	return t
}
