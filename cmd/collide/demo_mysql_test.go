package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/report"
)

// TestDemoMySQLDatabaseLink: the in-process demo on MariaDB connects
// through the database link when a fault uses it (the DSN rewritten to the
// link's address), and under each kind of fault on that link the counter
// profile stays sound: racy fails and safe passes where the fault lets the
// checker decide. Every case asserts from result.json that the fault sat on
// the path: the database link's upstream is MariaDB's 127.0.0.1:3306, bytes
// flowed both ways through it over at least one connection, and the
// timeline has the fault added and removed on it.
//
// Under reset_peer and timeout the statements caught in the window fail
// (the demo answers 500: unknown outcome, since a reset can come after the
// server committed), so a safe run may end inconclusive (exit 4) if too
// many are unknown, never FAIL; a racy run still loses increments outside
// the 100 ms window, so it must FAIL.
func TestDemoMySQLDatabaseLink(t *testing.T) {
	type want struct{ racy, safe []int } // acceptable exit codes
	for _, tc := range []struct {
		name  string
		chaos string // the profile's chaos list, on the database link only
		fault string // the fault kind the timeline must show added and removed
		want  want
	}{
		{"latency with jitter", `[{link: database, fault: latency, latency: 2ms, jitter: 2ms}]`, "latency",
			want{[]int{1}, []int{0}}},
		{"latency in a window", `[{link: database, fault: latency, latency: 20ms, from: 300ms, for: 200ms}]`, "latency",
			want{[]int{1}, []int{0}}},
		{"reset_peer in a window", `[{link: database, fault: reset_peer, toxicity: 1, from: 300ms, for: 100ms}]`, "reset_peer",
			want{[]int{1}, []int{0, 4}}},
		{"timeout in a window", `[{link: database, fault: timeout, timeout: 50ms, from: 300ms, for: 100ms}]`, "timeout",
			want{[]int{1}, []int{0, 4}}},
	} {
		for _, mode := range []string{"racy", "safe"} {
			codes := tc.want.racy
			if mode == "safe" {
				codes = tc.want.safe
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				dsn := testmysql.New(t)
				out := t.TempDir()
				start := time.Now()
				code, stdout, stderr := collide(t, "run", "-out", out, "-set", "target.demo.mode="+mode,
					"-set", "database.driver=mysql", "-set", "database.dsn="+dsn,
					"-set", "chaos="+tc.chaos, "counter")
				t.Logf("exit %d in %s", code, time.Since(start).Round(time.Millisecond))
				if !slices.Contains(codes, code) {
					t.Fatalf("exit %d, want one of %v\nstdout:\n%s\nstderr:\n%s", code, codes, stdout, stderr)
				}
				if !strings.Contains(stderr, "database link 127.0.0.1:") || !strings.Contains(stderr, "→ 127.0.0.1:3306") {
					t.Errorf("progress names no database link to MariaDB:\n%s", stderr)
				}
				res, err := report.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("outcomes: %d ok, %d fail, %d unknown", res.Totals.OK, res.Totals.Fail, res.Totals.Unknown)
				checkDatabaseLink(t, res, "127.0.0.1:3306", tc.fault)
			})
		}
	}
}

// checkDatabaseLink asserts that res's database link forwarded to upstream,
// that bytes crossed it both ways over at least one connection, and that
// the timeline has fault added and removed on it.
func checkDatabaseLink(t *testing.T, res *report.Result, upstream, fault string) {
	t.Helper()
	var lt *chaos.LinkTraffic
	for i := range res.ChaosLinks {
		if res.ChaosLinks[i].Link == "database" {
			lt = &res.ChaosLinks[i]
		}
	}
	if lt == nil {
		t.Fatalf("result.json has no chaos_links entry for the database link: %+v", res.ChaosLinks)
	}
	if lt.Upstream != upstream {
		t.Errorf("database link upstream = %s, want %s", lt.Upstream, upstream)
	}
	if !lt.Measured() || *lt.BytesUp <= 0 || *lt.BytesDown <= 0 || *lt.Connections < 1 {
		t.Errorf("database link traffic = %s, want bytes both ways over ≥ 1 connection", trafficText(*lt))
	} else {
		t.Logf("database link %s → %s: %s", lt.Listen, lt.Upstream, trafficText(*lt))
	}
	var added, removed bool
	for _, e := range res.Chaos {
		if e.Link == "database" && e.Fault == fault {
			added = added || e.Action == "added"
			removed = removed || e.Action == "removed"
		}
	}
	if !added || !removed {
		t.Errorf("timeline lacks %s added (%v) and removed (%v) on the database link: %+v", fault, added, removed, res.Chaos)
	}
}

// trafficText reads "1234 bytes up, 5678 down, 3 connections", or why the
// traffic was not measured.
func trafficText(lt chaos.LinkTraffic) string {
	if !lt.Measured() {
		return "unmeasured: " + lt.Unmeasured
	}
	return strings.Join([]string{itoa(*lt.BytesUp) + " bytes up", itoa(*lt.BytesDown) + " down", itoa(*lt.Connections) + " connections"}, ", ")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
