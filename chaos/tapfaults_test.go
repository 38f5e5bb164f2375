package chaos_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database/postgres"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
)

// TestTapFaultSchedule: a cut_after_statement scheduled from 300ms for 500ms
// on a PostgreSQL database link (client → tap → Toxiproxy → PostgreSQL)
// cuts a connection only inside its window, right after its first INSERT,
// and the timeline holds its addition, the cut (with its time) and its
// removal, in order; Close stops the tap.
func TestTapFaultSchedule(t *testing.T) {
	dsn := testpg.New(t)
	_, up, err := postgres.Driver{}.Address(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := newChaos(t, embedded(t).URL(), "tapfault")
	addLink(t, c, chaos.LinkDatabase, up)
	ctx := context.Background()
	tp, err := c.StartTap(ctx, chaos.LinkDatabase, tap.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	via, err := postgres.Driver{}.Through(dsn, tp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartTap(ctx, chaos.LinkDatabase, tap.Postgres); err == nil {
		t.Error("second StartTap on a link: no error")
	}
	// session runs SELECT, INSERT, SELECT on a new connection and reports
	// which failed.
	session := func() []bool {
		conn, err := pgx.Connect(ctx, via+"&sslmode=disable")
		if err != nil {
			t.Fatalf("connect through the tap: %v", err)
		}
		defer conn.Close(ctx)
		var failed []bool
		for _, q := range []string{"SELECT 1", "INSERT INTO t VALUES (1)", "SELECT 2"} {
			_, err := conn.Exec(ctx, q)
			failed = append(failed, err != nil)
		}
		return failed
	}
	setup, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
		t.Fatal(err)
	}
	setup.Close(ctx)

	f := profiles.Fault{Link: chaos.LinkDatabase, Fault: "cut_after_statement",
		Params: fault.CutAfterStatement{After: 1, Match: "^INSERT", Scope: fault.ScopeConnection, Every: true},
		From:   profiles.Duration(300 * time.Millisecond), For: profiles.Duration(500 * time.Millisecond)}
	s, err := c.Run(ctx, []profiles.Fault{f}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, false, false}
	if got := session(); !slices.Equal(got, want) {
		t.Errorf("before the window: failed %v, want %v", got, want)
	}
	time.Sleep(time.Until(s.Start().Add(450 * time.Millisecond)))
	if got := c.Active(); !slices.Equal(got, []string{"database:cut_after_statement"}) {
		t.Errorf("Active in the window = %v", got)
	}
	if got, want := session(), []bool{false, false, true}; !slices.Equal(got, want) {
		t.Errorf("in the window: failed %v, want %v (cut after the INSERT)", got, want)
	}
	time.Sleep(time.Until(s.Start().Add(900 * time.Millisecond)))
	if got := session(); !slices.Equal(got, want) {
		t.Errorf("after the window: failed %v, want %v", got, want)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var actions []string
	var cut chaos.Event
	for _, ev := range c.Timeline() {
		if ev.Fault == "cut_after_statement" {
			actions = append(actions, ev.Action)
		}
		if ev.Action == chaos.ActionCut {
			cut = ev
		}
	}
	if got := strings.Join(actions, " "); got != "added cut removed" {
		t.Errorf("timeline actions %q, want %q", got, "added cut removed")
	}
	if cut.Offset < 300*time.Millisecond || cut.Offset > 800*time.Millisecond || cut.Link != chaos.LinkDatabase ||
		!strings.Contains(cut.Attributes["statement"].(string), "INSERT INTO t") {
		t.Errorf("cut event %+v: want one inside the window, naming the INSERT", cut)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if tp.Active() != 0 {
		t.Errorf("after Close: %d connections open through the tap", tp.Active())
	}
}

// TestTapFaultNeedsTap: a tap fault on a link without a tap fails to apply,
// naming the link.
func TestTapFaultNeedsTap(t *testing.T) {
	c := newChaos(t, embedded(t).URL(), "notap")
	addLink(t, c, chaos.LinkDatabase, upstream(t))
	_, err := c.Apply(context.Background(), chaos.LinkDatabase, profiles.Fault{Fault: "cut_after_statement"})
	if err == nil || !strings.Contains(err.Error(), "no SQL tap on the link") {
		t.Errorf("Apply = %v, want no SQL tap on the link", err)
	}
}
