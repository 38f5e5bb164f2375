package harness

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// TestStatementCutOnDatabaseLink: the built-in compound-op, with a latency
// fault added on the same database link, on PostgreSQL. The link is service
// → tap → Toxiproxy → database: the service's traffic crossed the Toxiproxy
// link (measured) while the tap cut; every cut is a timeline event of the
// result with its time; racy, each cut left one orphan (one unknown
// signup); safe, none.
func TestStatementCutOnDatabaseLink(t *testing.T) {
	dsn := testpg.New(t)
	for _, tc := range []struct {
		name, mode string
		verdict    report.Verdict
	}{
		{"racy leaves an orphan per cut", "racy", report.Fail},
		{"safe leaves none", "safe", report.Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profiles.Load("compound-op", []string{"database.dsn=" + dsn, "target.demo.mode=" + tc.mode,
				"operations[0].duration=1s",
				`chaos=[{"link":"database","fault":"cut_after_statement","after":3,"match":"(?i)^\\s*insert into members","every":true},` +
					`{"link":"database","fault":"latency","latency":"1ms"}]`})
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			res, err := Run(context.Background(), Options{Profile: p, OutDir: out, Seed: 7})
			if err != nil && tc.verdict == report.Pass {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s", res.Verdict, tc.verdict)
			}
			lt := linkTraffic(t, out, "database")
			if *lt.BytesUp <= 0 || *lt.Connections < 1 {
				t.Errorf("database link: %d bytes up, %d connections: the tap did not go through Toxiproxy", *lt.BytesUp, *lt.Connections)
			}
			cuts, latency := 0, false
			for _, ev := range readResult(t, out).Chaos {
				switch {
				case ev.Action == chaos.ActionCut:
					cuts++
					if ev.Link != "database" || ev.Fault != "cut_after_statement" || ev.At.IsZero() || ev.Offset < 0 ||
						!strings.Contains(fmt.Sprint(ev.Attributes["statement"]), "INSERT INTO members") {
						t.Errorf("cut event %+v", ev)
					}
				case ev.Fault == "latency" && ev.Action == chaos.ActionAdded:
					latency = true
				}
			}
			if cuts == 0 || !latency {
				t.Fatalf("timeline: %d cuts, latency added %v; want both", cuts, latency)
			}
			if got := res.Totals.Unknown; got != cuts {
				t.Errorf("%d unknown signups for %d cuts", got, cuts)
			}
			for _, inv := range res.Invariants {
				if inv.Name != "no member without a profile" {
					continue
				}
				want := "orphans=0"
				if tc.mode == "racy" {
					want = fmt.Sprintf("orphans=%d", cuts)
				}
				if inv.Actual != want || (tc.mode == "racy") != (inv.Verdict == invariants.Fail) {
					t.Errorf("%s: %s, actual %q; want %q", inv.Name, inv.Verdict, inv.Actual, want)
				}
			}
		})
	}
}

// TestStatementCutRefused: where a statement cut cannot run, compile says
// which field, before anything starts.
func TestStatementCutRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *profiles.Profile)
		want   string
	}{
		{"on SQLite", func(p *profiles.Profile) { p.Database.Driver, p.Database.DSN = "sqlite", "" },
			"chaos[0].link: the database link needs a networked database"},
		{"on the target link", func(p *profiles.Profile) { p.Chaos[0].Link = "target" },
			"chaos[0].link: fault cut_after_statement works on link database only"},
		{"with toxicity", func(p *profiles.Profile) { tox := 0.3; p.Chaos[0].Toxicity = &tox },
			"chaos[0].toxicity: not read by fault cut_after_statement"},
		{"with a container target", func(p *profiles.Profile) {
			p.Target.Demo, p.Target.Container = nil, &profiles.ContainerTarget{Image: "example/svc"}
		}, "chaos[0].fault: fault cut_after_statement is not available with target.container"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profiles.Load("compound-op", nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(p) // in code, past the loader's checks
			err = Validate(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
