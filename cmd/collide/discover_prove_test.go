package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/internal/testpg"
)

// discoverN is the number of proofs per finding TestDiscoverProveRate
// runs; 0 (the default) skips it: it takes about a minute per ten runs.
var discoverN = flag.Int("discover.n", 0, "TestDiscoverProveRate: run collide discover --demo racy --prove N on PostgreSQL and print per-finding k/N (0: skip)")

// TestDiscoverProveRate measures issue 17's target: collide discover on
// the racy demo (a fresh PostgreSQL database) writes a profile per finding
// that proves it in at least 19 of 20 runs, and finds nothing on the safe
// demo. Run it with
//
//	go test ./cmd/collide -run TestDiscoverProveRate -discover.n 20 -v
func TestDiscoverProveRate(t *testing.T) {
	n := *discoverN
	if n <= 0 {
		t.Skip("a measurement: run with -discover.n N")
	}
	withDiscoverStages(t)

	t.Run("safe", func(t *testing.T) {
		code, stdout, stderr := collide(t, "discover", "--demo", "safe", "--db-driver", "postgres", "--db-dsn", testpg.New(t), "--format", "json")
		var findings []discover.Finding
		if err := json.Unmarshal([]byte(stdout), &findings); code != 0 || err != nil {
			t.Fatalf("exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
		}
		for _, f := range findings {
			t.Errorf("finding on the safe demo: %s %s on %s (%s)", f.ID, f.Class, f.Endpoint, f.Table)
		}
		t.Logf("safe demo: %d findings", len(findings))
	})

	t.Run("racy", func(t *testing.T) {
		dir := t.TempDir()
		code, stdout, stderr := collide(t, "discover", "--demo", "racy", "--db-driver", "postgres", "--db-dsn", testpg.New(t),
			"--format", "json", "--write", dir, "--prove", strconv.Itoa(n))
		var findings []discover.Finding
		if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
			t.Fatalf("exit %d: stdout is not the findings array: %v\n%s\nstderr:\n%s", code, err, stdout, stderr)
		}
		if len(findings) == 0 {
			t.Fatalf("no finding on the racy demo\nstderr:\n%s", stderr)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "racy demo, PostgreSQL: %d findings, --prove %d\n", len(findings), n)
		for _, f := range findings {
			m := regexp.MustCompile(regexp.QuoteMeta(f.ID) + `  proved (\d+)/` + strconv.Itoa(n)).FindStringSubmatch(stderr)
			k := -1
			if m != nil {
				k, _ = strconv.Atoi(m[1])
			}
			fmt.Fprintf(&b, "  %s  %-18s %-32s %-15s proved %2d/%d\n", f.ID, f.Class, f.Endpoint, f.Table, k, n)
			// at least 19 in 20: k/n ≥ 0.95
			if k*20 < 19*n {
				t.Errorf("%s (%s on %s): proved %d/%d, want at least 19 in 20", f.ID, f.Class, f.Endpoint, k, n)
			}
		}
		t.Log(b.String())
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr)
		}
	})
}
