package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/invariants"
)

// TestBurstTable: an operation that sent bursts gets a row with its sync
// mode, release and arrival spreads in the terminal table and the Markdown
// report, with the sync note; operations without bursts get none.
func TestBurstTable(t *testing.T) {
	r := &Result{Verdict: Pass, Attack: []*attacks.Metrics{
		{Op: "plain", Requests: 10},
		{Op: "favorite", Requests: 30, Bursts: 1, Sync: "last-byte", SyncNote: "target speaks HTTP/1.1 only",
			ReleaseSpreadP50: 120 * time.Microsecond, ReleaseSpreadMax: 480 * time.Microsecond, ReleaseSpreadFirst: 130 * time.Microsecond,
			ArrivalSpreadP50: 2 * time.Millisecond, ArrivalSpreadMax: 3 * time.Millisecond, ArrivalBursts: 1},
	}}
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"table", func(b *bytes.Buffer) error { return Table(b, r) }},
		{"markdown", func(b *bytes.Buffer) error { return Markdown(b, r) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, want := range []string{"Bursts of", "favorite", "last-byte", "120µs", "480µs", "130µs", "2ms", "3ms", "HTTP/1.1 only"} {
				if !strings.Contains(out, want) {
					t.Fatalf("%s output lacks %q:\n%s", tc.name, want, out)
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "plain") && strings.Contains(line, "-") && strings.Count(line, "│")+strings.Count(line, "|") > 9 && strings.Contains(line, "µs") {
					t.Fatalf("operation without bursts in the burst table: %s", line)
				}
			}
		})
	}
}

// TestTableShowsFix: a failed invariant's usual fix is in the terminal
// table (and so in `collide report -format table`), a passing one's is not.
func TestTableShowsFix(t *testing.T) {
	r := &Result{Verdict: Fail, Invariants: []invariants.Result{
		{Name: "counted", Verdict: invariants.Fail, Anomaly: "lost update", Actual: "3 missing", Fix: "use an atomic UPDATE"},
		{Name: "unique", Verdict: invariants.Pass, Actual: "ok", Fix: "add a unique index"},
	}}
	var b bytes.Buffer
	if err := Table(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "fix: use an atomic UPDATE") {
		t.Fatalf("the failed invariant's fix is missing:\n%s", out)
	}
	if strings.Contains(out, "add a unique index") {
		t.Fatalf("a passing invariant shows a fix:\n%s", out)
	}
}
