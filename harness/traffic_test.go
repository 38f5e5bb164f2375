package harness

import (
	"context"
	"testing"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/report"
)

// linkTraffic returns the chaos_links entry of link in the result.json of
// dir, failing the test unless it was measured.
func linkTraffic(t *testing.T, dir, link string) chaos.LinkTraffic {
	t.Helper()
	for _, lt := range readResult(t, dir).ChaosLinks {
		if lt.Link != link {
			continue
		}
		if !lt.Measured() || lt.BytesUp == nil || lt.BytesDown == nil || lt.Connections == nil {
			t.Fatalf("link %s traffic not measured: %+v", link, lt)
		}
		t.Logf("link %s %s → %s: %d bytes up, %d down, %d connections", lt.Link, lt.Listen, lt.Upstream, *lt.BytesUp, *lt.BytesDown, *lt.Connections)
		return lt
	}
	t.Fatalf("result.json has no chaos_links entry for link %s", link)
	return chaos.LinkTraffic{}
}

// TestTargetLinkTraffic: a demo run on SQLite with a latency fault on the
// target link records in result.json that the attack's requests really
// crossed that link: bytes both ways, at least one connection.
func TestTargetLinkTraffic(t *testing.T) {
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile), OutDir: out, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != report.Pass {
		t.Fatalf("verdict %s", res.Verdict)
	}
	lt := linkTraffic(t, out, "target")
	if *lt.BytesUp <= 0 || *lt.BytesDown <= 0 || *lt.Connections < 1 {
		t.Errorf("target link: %d bytes up, %d down, %d connections; want traffic both ways", *lt.BytesUp, *lt.BytesDown, *lt.Connections)
	}
	// Every request sent went up the link: at least its request line.
	if min := int64(res.Totals.Total()) * int64(len("POST /counters/1/increment HTTP/1.1\r\n")); *lt.BytesUp < min {
		t.Errorf("target link: %d bytes up for %d requests, want ≥ %d", *lt.BytesUp, res.Totals.Total(), min)
	}
}

// TestDatabaseLinkTraffic: a demo run on PostgreSQL with a latency fault on
// the database link records that the service's queries crossed it.
func TestDatabaseLinkTraffic(t *testing.T) {
	dsn := testpg.New(t)
	out := t.TempDir()
	p := parse(t, counterProfile, "database.driver=postgres", "database.dsn="+dsn,
		"chaos[0].link=database", "chaos[0].latency=2ms")
	res, err := Run(context.Background(), Options{Profile: p, OutDir: out, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != report.Pass {
		t.Fatalf("verdict %s", res.Verdict)
	}
	lt := linkTraffic(t, out, "database")
	if *lt.BytesUp <= 0 || *lt.BytesDown <= 0 || *lt.Connections < 1 {
		t.Errorf("database link: %d bytes up, %d down, %d connections; want traffic both ways", *lt.BytesUp, *lt.BytesDown, *lt.Connections)
	}
	added := false
	for _, ev := range res.Chaos {
		added = added || ev.Link == "database" && ev.Fault == "latency" && ev.Action == chaos.ActionAdded
	}
	if !added {
		t.Errorf("timeline %+v: no latency added on the database link", res.Chaos)
	}
}
