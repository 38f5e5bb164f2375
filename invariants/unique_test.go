package invariants

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
)

// TestUniqueManyRows streams generated rows (keys k-1, k-2 and k-3 twice,
// every other key once) through the unique checker on every SQL driver.
// PostgreSQL sends a million rows; reading and checking them must cost this
// process well under 2 s of CPU. SQLite (modernc, pure Go) spends most of
// its time generating rows in its own VM, so it gets fewer; the checker's
// own cost is measured by TestUniqueOverhead. Times are CPU time, not wall
// clock, so a loaded machine does not fail the test; under the race
// detector only verdicts are checked, on fewer rows.
func TestUniqueManyRows(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	sizes := map[string]int{"postgres": 1_000_000, "sqlite": 200_000, "mysql": 100_000}
	if raceEnabled {
		sizes = map[string]int{"postgres": 200_000, "sqlite": 20_000, "mysql": 10_000}
	}
	for _, d := range dbtest.Dialects {
		t.Run(d.Name, func(t *testing.T) {
			n := sizes[d.Name]
			q := fmt.Sprintf(`SELECT %s FROM (%s) q`, d.Concat("'k-'", fmt.Sprintf("(x %% %d)", n-3)), d.Series(n))
			c, err := testNew(flatInv{Name: "many", Unique: q})
			if err != nil {
				t.Fatal(err)
			}
			db := d.Opener(t)(t)
			start, cpu0 := time.Now(), cpuTime(t)
			res := c.Check(context.Background(), &Env{DB: db})
			took, cpu := time.Since(start), cpuTime(t)-cpu0
			t.Logf("%d rows: %v wall, %v CPU: %s %s %q", n, took, cpu, res.Verdict, res.Actual, res.Evidence)
			want := fmt.Sprintf("3 duplicated values in %d rows (3 extra rows)", n)
			if res.Verdict != Fail || res.Actual != want {
				t.Fatalf("got %s %q (error %q), want fail %q", res.Verdict, res.Actual, res.Error, want)
			}
			if got := fmt.Sprint(res.Evidence); got != `["k-1" ×2 "k-2" ×2 "k-3" ×2]` {
				t.Errorf("evidence = %s", got)
			}
			if d.Name == "postgres" && !raceEnabled && cpu > 2*time.Second {
				t.Errorf("%d rows took %v of CPU, want under 2s", n, cpu)
			}
		})
	}
}

// generatedDB streams n generated rows without a database, to measure the
// unique checker's own cost. It is a row source, not a stand-in for a
// database's behaviour: verdicts are tested against real databases.
type generatedDB struct {
	n    int
	cols int
}

func (g generatedDB) Driver() string                             { return "generated" }
func (g generatedDB) Exec(context.Context, string, ...any) error { return nil }
func (g generatedDB) Close() error                               { return nil }
func (g generatedDB) Query(context.Context, string, ...any) (*database.Rows, error) {
	return nil, fmt.Errorf("not supported")
}
func (g generatedDB) Each(ctx context.Context, _ string, fn func([]any) error, _ ...any) ([]string, error) {
	row := make([]any, g.cols)
	cols := make([]string, g.cols)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
	}
	for i := range g.n {
		// Like a driver, every row brings a freshly allocated string.
		row[0] = "k-" + strconv.Itoa(i%(g.n-5))
		for j := 1; j < g.cols; j++ {
			row[j] = int64(j)
		}
		if err := fn(row); err != nil {
			return cols, err
		}
	}
	return cols, nil
}

// TestUniqueOverhead: a million rows through the checker itself cost well
// under 2 s of CPU, with one column (the fast path) and with two.
func TestUniqueOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	n := 1_000_000
	if raceEnabled {
		n = 200_000
	}
	c, err := testNew(flatInv{Name: "overhead", Unique: "SELECT k FROM t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cols := range []int{1, 2} {
		start, cpu0 := time.Now(), cpuTime(t)
		res := c.Check(context.Background(), &Env{DB: generatedDB{n: n, cols: cols}})
		took, cpu := time.Since(start), cpuTime(t)-cpu0
		t.Logf("%d rows, %d columns: %v wall, %v CPU: %s", n, cols, took, cpu, res.Actual)
		if want := fmt.Sprintf("5 duplicated values in %d rows (5 extra rows)", n); res.Verdict != Fail || res.Actual != want {
			t.Errorf("got %s %q %q, want fail %q", res.Verdict, res.Actual, res.Error, want)
		}
		if !raceEnabled && cpu > 2*time.Second {
			t.Errorf("%d columns: a million rows took %v of CPU, want well under 2s", cols, cpu)
		}
	}
}

// cpuTime is the user and system CPU time the test process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
