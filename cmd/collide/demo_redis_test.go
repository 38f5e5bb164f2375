package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/report"
)

// TestDemoRedisLockStoreDatabaseLink: the built-in locks profile with
// `database: {driver: redis, dsn: redis://…/N}` runs the demo with its
// tables in a SQLite file in the run folder and its locks in that Redis
// database — directly without a database fault, through the database link
// with one; under a fault on that
// link the racy locks (GET then SET) fail and the safe ones (SET NX PX,
// compare-and-delete scripts) pass. result.json shows the fault sat on the
// path: the link forwarded to Redis's 127.0.0.1:6379 and bytes crossed it
// both ways.
//
// The profile's SQL setup (DELETE FROM locks …) is replaced by FLUSHDB:
// setup steps run on the profile's database, here Redis, and the demo's
// SQLite file is new for every run anyway. Under reset_peer the lock calls
// caught in the window fail (500: unknown), which the locks checker treats
// as holders that may still hold the lock until their end + ttl + slack:
// a safe run may then be inconclusive (exit 4), never FAIL; a racy run
// still double-grants outside the 100 ms window, so it must FAIL.
func TestDemoRedisLockStoreDatabaseLink(t *testing.T) {
	dbs := dbtest.RedisDatabases(t)
	for _, tc := range []struct {
		name       string
		chaos      string
		fault      string // "": no fault, so no database link
		racy, safe []int  // acceptable exit codes
	}{
		{"no fault: no link", `[]`, "", []int{1}, []int{0}},
		{"latency", `[{link: database, fault: latency, latency: 2ms, jitter: 1ms}]`, "latency", []int{1}, []int{0}},
		{"reset_peer in a window", `[{link: database, fault: reset_peer, toxicity: 1, from: 300ms, for: 100ms}]`, "reset_peer", []int{1}, []int{0, 4}},
	} {
		for _, mode := range []string{"racy", "safe"} {
			codes := tc.racy
			if mode == "safe" {
				codes = tc.safe
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				dsn := dbs(t)
				out := t.TempDir()
				start := time.Now()
				code, stdout, stderr := collide(t, "run", "-out", out, "-set", "target.demo.mode="+mode,
					"-set", "database.driver=redis", "-set", "database.dsn="+dsn, "-set", "setup=[FLUSHDB]",
					"-set", "chaos="+tc.chaos, "locks")
				t.Logf("exit %d in %s", code, time.Since(start).Round(time.Millisecond))
				if !slices.Contains(codes, code) {
					t.Fatalf("exit %d, want one of %v\nstdout:\n%s\nstderr:\n%s", code, codes, stdout, stderr)
				}
				if !strings.Contains(stderr, "demo lock store: redis redis://127.0.0.1:") {
					t.Errorf("progress names no Redis lock store of the demo:\n%s", stderr)
				}
				if linked := strings.Contains(stderr, "database link 127.0.0.1:") && strings.Contains(stderr, "→ 127.0.0.1:6379"); linked != (tc.fault != "") {
					t.Errorf("database link to Redis in the progress: %v, want %v:\n%s", linked, tc.fault != "", stderr)
				}
				if tc.fault == "" && !strings.Contains(stderr, "demo lock store: redis "+dsn) {
					t.Errorf("without a fault the demo's lock store is not database.dsn itself (%s):\n%s", dsn, stderr)
				}
				if _, err := os.Stat(filepath.Join(out, "demo.db")); err != nil {
					t.Errorf("the demo's tables are not in the run folder: %v", err)
				}
				res, err := report.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("outcomes: %d ok, %d fail, %d unknown", res.Totals.OK, res.Totals.Fail, res.Totals.Unknown)
				if tc.fault != "" {
					checkDatabaseLink(t, res, "127.0.0.1:6379", tc.fault)
				} else if len(res.ChaosLinks) > 0 {
					t.Errorf("chaos links without a fault: %+v", res.ChaosLinks)
				}
			})
		}
	}
}
