package tap_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collide-dev/collide/chaos/tap"
)

func pgConnect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// find returns the recorded statements whose text contains sub.
func find(stmts []tap.Statement, sub string) []tap.Statement {
	var out []tap.Statement
	for _, s := range stmts {
		if strings.Contains(strings.ToLower(s.Text), strings.ToLower(sub)) {
			out = append(out, s)
		}
	}
	return out
}

func paramsText(ps []tap.Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestPostgresRecordsStatements(t *testing.T) {
	dsn, up := pgDB(t)
	rec := tap.NewRecorder(1000)
	tp := startTap(t, tap.Config{Name: "database", Upstream: up, Protocol: tap.Postgres, Recorder: rec})
	c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	ctx := context.Background()

	mustExec(t, c, "CREATE TABLE acct (id int PRIMARY KEY, name text, balance bigint)")
	// Extended protocol (pgx's default: prepared and cached), binary int params.
	mustExec(t, c, "INSERT INTO acct VALUES ($1, $2, $3)", 1, "alice", int64(100))
	mustExec(t, c, "INSERT INTO acct VALUES ($1, $2, $3)", 2, nil, int64(-5))
	// Simple protocol.
	if _, err := c.Exec(ctx, "UPDATE acct SET balance = balance + 1 WHERE id = $1", pgx.QueryExecModeSimpleProtocol, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "UPDATE acct SET name = 'x' WHERE id = 1; DELETE FROM acct WHERE id = 99", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT nope FROM acct"); err == nil {
		t.Fatal("want an error for an unknown column")
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM acct WHERE balance > $1", 0).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count: %d, %v", n, err)
	}
	stmts := rec.Statements()

	tests := []struct {
		name   string
		sub    string
		index  int
		params []string
		tag    string
		err    string
	}{
		{name: "create", sub: "CREATE TABLE acct", tag: "CREATE TABLE"},
		{name: "extended insert, binary ints decoded", sub: "INSERT INTO acct", params: []string{"1", "alice", "100"}, tag: "INSERT 0 1"},
		{name: "extended insert with NULL", sub: "INSERT INTO acct", index: 1, params: []string{"2", "NULL", "-5"}, tag: "INSERT 0 1"},
		{name: "simple protocol: values inlined", sub: "UPDATE acct SET balance = balance + 1 WHERE id =", tag: "UPDATE 1"},
		{name: "two statements in one simple Query", sub: "UPDATE acct SET name = 'x'", tag: "UPDATE 1; DELETE 0"},
		{name: "error", sub: "SELECT nope", err: "42703: column \"nope\" does not exist"},
		{name: "select", sub: "SELECT count(*)", params: []string{"0"}, tag: "SELECT 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := find(stmts, tc.sub)
			if len(got) <= tc.index {
				t.Fatalf("no statement %d containing %q among %d: %+v", tc.index, tc.sub, len(stmts), stmts)
			}
			s := got[tc.index]
			if tc.name == "simple protocol: values inlined" && len(s.Params) != 0 {
				t.Errorf("simple protocol params %v, want none", s.Params)
			}
			if tc.params != nil && strings.Join(paramsText(s.Params), ",") != strings.Join(tc.params, ",") {
				t.Errorf("params %v, want %v", paramsText(s.Params), tc.params)
			}
			if s.Tag != tc.tag || s.Err != tc.err {
				t.Errorf("tag %q err %q, want %q %q", s.Tag, s.Err, tc.tag, tc.err)
			}
			if s.ConnID != 1 || s.Seq < 1 || s.Start.IsZero() || s.End.Before(s.Start) || s.InTxn {
				t.Errorf("conn %d seq %d start %v end %v inTxn %v", s.ConnID, s.Seq, s.Start, s.End, s.InTxn)
			}
		})
	}
	for i := 1; i < len(stmts); i++ {
		if stmts[i].Seq != stmts[i-1].Seq+1 {
			t.Errorf("seq %d follows %d", stmts[i].Seq, stmts[i-1].Seq)
		}
	}
	if len(eventsOf(tp, tap.EventUndecodable)) != 0 {
		t.Errorf("undecodable: %+v", eventsOf(tp, tap.EventUndecodable))
	}
}

func TestPostgresTransactions(t *testing.T) {
	dsn, up := pgDB(t)
	rec := tap.NewRecorder(1000)
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: rec})
	c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	mustExec(t, c, "CREATE TABLE t (v int)")
	for _, end := range []string{"COMMIT", "ROLLBACK"} {
		mustExec(t, c, "BEGIN")
		mustExec(t, c, "INSERT INTO t VALUES ($1)", 7)
		mustExec(t, c, end)
	}
	mustExec(t, c, "SELECT 1")

	type want struct {
		tag   string
		inTxn bool
		txnID int
	}
	var got []want
	for _, s := range rec.Statements() {
		got = append(got, want{s.Tag, s.InTxn, s.TxnID})
	}
	exp := []want{
		{"CREATE TABLE", false, 0},
		{"BEGIN", true, 1}, {"INSERT 0 1", true, 1}, {"COMMIT", true, 1},
		{"BEGIN", true, 2}, {"INSERT 0 1", true, 2}, {"ROLLBACK", true, 2},
		{"SELECT 1", false, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Errorf("statements (tag inTxn txnID):\n got %v\nwant %v", got, exp)
	}
}

func TestPostgresCopyAndNotifyPassThrough(t *testing.T) {
	dsn, up := pgDB(t)
	rec := tap.NewRecorder(1000)
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: rec})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	mustExec(t, c, "CREATE TABLE items (id int, label text)")

	t.Run("COPY FROM STDIN", func(t *testing.T) {
		const rows = 5000
		src := make([][]any, rows)
		for i := range src {
			src[i] = []any{i, fmt.Sprintf("label-%d", i)}
		}
		n, err := c.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "label"}, pgx.CopyFromRows(src))
		if err != nil || n != rows {
			t.Fatalf("CopyFrom: %d rows, %v; want %d", n, err, rows)
		}
		var got int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&got); err != nil || got != rows {
			t.Fatalf("count after COPY: %d, %v", got, err)
		}
		if s := find(rec.Statements(), "COPY"); len(s) != 1 || s[0].Tag != fmt.Sprintf("COPY %d", rows) {
			t.Errorf("COPY statement: %+v", s)
		}
	})

	t.Run("LISTEN/NOTIFY", func(t *testing.T) {
		listener := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
		mustExec(t, listener, "LISTEN tap_test")
		mustExec(t, c, "SELECT pg_notify('tap_test', 'hello')")
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		n, err := listener.WaitForNotification(wctx)
		if err != nil || n.Channel != "tap_test" || n.Payload != "hello" {
			t.Fatalf("notification %+v, %v", n, err)
		}
	})
}

func TestPostgresTLSRefused(t *testing.T) {
	dsn, up := pgDB(t)
	tests := []struct {
		name    string
		sslmode string
		wantErr string // the client's own error; "" connects in plaintext
	}{
		{name: "require fails with the client's error", sslmode: "require", wantErr: "server refused TLS connection"},
		{name: "prefer falls back to plaintext", sslmode: "prefer"},
		{name: "direct TLS handshake is closed", sslmode: "require&sslnegotiation=direct", wantErr: "failed to connect"}, // EOF or reset: the tap closes,
	}
	t.Run("discovery off passes TLS through", func(t *testing.T) {
		tp := startTap(t, tap.Config{Upstream: up})
		c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "require"))
		var ssl bool
		if err := c.QueryRow(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Skipf("server has no TLS (ssl %v, %v)", ssl, err)
		}
		if len(tp.Events()) != 0 {
			t.Errorf("plain relay recorded events: %+v", tp.Events())
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := startTap(t, tap.Config{Name: "database", Upstream: up, Protocol: tap.Postgres, Recorder: tap.NewRecorder(100)})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, viaTap(t, dsn, tp.Addr(), tc.sslmode))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				if err := c.Ping(ctx); err != nil {
					t.Fatal(err)
				}
				c.Close(ctx)
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("connect error %v, want one containing %q", err, tc.wantErr)
			}
			refusals := eventsOf(tp, tap.EventTLSRefused)
			if len(refusals) == 0 {
				t.Fatal("no TLS refusal recorded")
			}
			msg := refusals[0].Err.Error()
			if !errors.Is(refusals[0].Err, tap.ErrTLS) || !strings.Contains(msg, "TLS on the database link") || !strings.Contains(msg, "sslmode=disable") {
				t.Errorf("refusal error %q", msg)
			}
			t.Logf("recorded: %v", msg)
			eventually(t, 5*time.Second, "connections left open through the tap", func() bool { return tp.Active() == 0 })
		})
	}
}

func TestPostgresCutAfterFirstInsertRollsBack(t *testing.T) {
	dsn, up := pgDB(t)
	direct := pgConnect(t, dsn)
	mustExec(t, direct, "CREATE TABLE pay (v int)")
	tests := []struct {
		name string
		mode pgx.QueryExecMode
	}{
		{name: "extended protocol", mode: pgx.QueryExecModeCacheStatement},
		{name: "simple protocol", mode: pgx.QueryExecModeSimpleProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tap.NewRecorder(100)
			tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: rec,
				Cut: &tap.Cut{After: 1, Match: regexp.MustCompile(`^INSERT`), Scope: tap.PerTxn}})
			ctx := context.Background()
			c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
			mustExec(t, c, "BEGIN")
			if _, err := c.Exec(ctx, "INSERT INTO pay VALUES ($1)", tc.mode, 1); err != nil {
				t.Fatalf("first INSERT should succeed: %v", err)
			}
			_, err := c.Exec(ctx, "INSERT INTO pay VALUES ($1)", tc.mode, 2)
			if err == nil {
				t.Fatal("second INSERT succeeded; want a connection error")
			}
			t.Logf("client error: %v", err)
			if !c.IsClosed() {
				t.Error("client connection still open after the cut")
			}
			cuts := eventsOf(tp, tap.EventCut)
			if len(cuts) != 1 || !strings.Contains(cuts[0].Detail, "INSERT INTO pay") {
				t.Errorf("cut events %+v", cuts)
			}
			eventually(t, 5*time.Second, "the server to roll the transaction back", func() bool {
				var n int
				err := direct.QueryRow(ctx, "SELECT count(*) FROM pay").Scan(&n)
				return err == nil && n == 0
			})
		})
	}
}

// TestPostgresBytesUnchanged reads a large row set directly, through the
// plain relay and through the recording tap, and compares digests.
func TestPostgresBytesUnchanged(t *testing.T) {
	dsn, up := pgDB(t)
	const q = "SELECT g, md5(g::text), repeat('x', g % 300) FROM generate_series(1, 100000) g"
	digest := func(c *pgx.Conn) string {
		rows, err := c.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		h := sha256.New()
		n := 0
		for rows.Next() {
			for _, v := range rows.RawValues() {
				h.Write(v)
				h.Write([]byte{0})
			}
			n++
		}
		if err := rows.Err(); err != nil || n != 100000 {
			t.Fatalf("rows %d, %v", n, err)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	want := digest(pgConnect(t, dsn))
	tests := []struct {
		name string
		cfg  tap.Config
	}{
		{name: "plain relay", cfg: tap.Config{Upstream: up}},
		{name: "recording tap", cfg: tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: tap.NewRecorder(10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := startTap(t, tc.cfg)
			if got := digest(pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))); got != want {
				t.Errorf("digest through the tap %s, direct %s", got, want)
			}
		})
	}
}

// TestPostgresWindowAttributes takes the statements of one request sent
// alone: the window from just before to just after it holds exactly its
// statements, from whichever pooled connection ran them.
func TestPostgresWindowAttributes(t *testing.T) {
	dsn, up := pgDB(t)
	rec := tap.NewRecorder(100)
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: rec})
	c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	mustExec(t, c, "CREATE TABLE stock (sku text PRIMARY KEY, n int)")
	mustExec(t, c, "INSERT INTO stock VALUES ('a', 5)")
	request := func() { // what one handler does: check, then decrement
		var n int
		if err := c.QueryRow(context.Background(), "SELECT n FROM stock WHERE sku = $1", "a").Scan(&n); err != nil {
			t.Fatal(err)
		}
		mustExec(t, c, "UPDATE stock SET n = $1 WHERE sku = $2", n-1, "a")
	}
	from := time.Now()
	request()
	to := time.Now()
	mustExec(t, c, "SELECT 1")
	var got []string
	for _, s := range rec.Window(from, to) {
		got = append(got, s.Text+" "+strings.Join(paramsText(s.Params), ","))
	}
	want := []string{"SELECT n FROM stock WHERE sku = $1 a", "UPDATE stock SET n = $1 WHERE sku = $2 4,a"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("window %q, want %q", got, want)
	}
}

// TestPostgresConcurrentConnections runs a pool of connections at once
// through the recording tap: every statement is recorded once, on its own
// connection, with contiguous sequence numbers; and cancelling the context
// the tap was started with stops it.
func TestPostgresConcurrentConnections(t *testing.T) {
	dsn, up := pgDB(t)
	rec := tap.NewRecorder(10_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tp, err := tap.Start(ctx, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	tapDSN := viaTap(t, dsn, tp.Addr(), "disable")
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			c, err := pgx.Connect(ctx, tapDSN)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(context.Background())
			for i := range each {
				if _, err := c.Exec(ctx, "SELECT $1::int, $2::int", w, i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	perConn := map[uint64][]tap.Statement{}
	for _, s := range find(rec.Statements(), "SELECT $1::int, $2::int") {
		perConn[s.ConnID] = append(perConn[s.ConnID], s)
	}
	if len(perConn) != workers {
		t.Fatalf("%d connections recorded, want %d", len(perConn), workers)
	}
	for id, ss := range perConn {
		if len(ss) != each {
			t.Errorf("connection %d: %d statements, want %d", id, len(ss), each)
		}
		worker := ss[0].Params[0].Text
		for i, s := range ss {
			if s.Params[0].Text != worker || s.Params[1].Text != fmt.Sprint(i) || (i > 0 && s.Seq != ss[i-1].Seq+1) {
				t.Errorf("connection %d statement %d: params %v seq %d", id, i, paramsText(s.Params), s.Seq)
				break
			}
		}
	}
	cancel()
	eventually(t, 5*time.Second, "the tap to stop after its context was cancelled", func() bool {
		var d net.Dialer
		c, err := d.DialContext(context.Background(), "tcp", tp.Addr())
		if err == nil {
			c.Close()
		}
		return err != nil && tp.Active() == 0
	})
	tp.Close()
}

// TestPostgresCutOnceOrEvery: two connections run three statements each
// through a tap that cuts after the 2nd statement of a connection, without a
// recorder (fault only). Once: only the first connection is cut; Every:
// both are.
func TestPostgresCutOnceOrEvery(t *testing.T) {
	dsn, up := pgDB(t)
	tests := []struct {
		name  string
		every bool
		cut   []bool // per connection: was its 3rd statement refused
	}{
		{name: "once", every: false, cut: []bool{true, false}},
		{name: "every time", every: true, cut: []bool{true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Cut: &tap.Cut{After: 2, Scope: tap.PerConn, Every: tc.every}})
			ctx := context.Background()
			var got []bool
			for range tc.cut {
				c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
				mustExec(t, c, "SELECT 1")
				mustExec(t, c, "SELECT 2")
				_, err := c.Exec(ctx, "SELECT 3")
				got = append(got, err != nil)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.cut) {
				t.Errorf("3rd statement failed per connection %v, want %v", got, tc.cut)
			}
			cuts := eventsOf(tp, tap.EventCut)
			if want := strings.Count(fmt.Sprint(tc.cut), "true"); len(cuts) != want {
				t.Errorf("%d cut events, want %d: %+v", len(cuts), want, cuts)
			}
			for _, e := range cuts {
				if !strings.Contains(e.Detail, "after statement 2") || e.Time.IsZero() {
					t.Errorf("cut event %+v", e)
				}
			}
		})
	}
}

// TestPostgresStartupErrorNoted: an error before any statement (no such
// database) reaches the client unchanged and is noted on the tap.
func TestPostgresStartupErrorNoted(t *testing.T) {
	dsn, up := pgDB(t)
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: tap.NewRecorder(100)})
	u := viaTap(t, dsn, tp.Addr(), "disable")
	u = strings.Replace(u, "/collide_test_", "/no_such_db_", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, u); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a database that does not exist")
	} else if !strings.Contains(err.Error(), "3D000") {
		t.Fatalf("client error %v, want SQLSTATE 3D000", err)
	}
	var noted bool
	for _, e := range eventsOf(tp, tap.EventNote) {
		noted = noted || strings.Contains(e.Detail, "3D000")
	}
	if !noted {
		t.Errorf("no note of the startup error among %+v", tp.Events())
	}
}

// TestPostgresArm: a tap started Armable cuts nothing until Arm sets a Cut,
// cuts after it (counting from the arming), and cuts nothing once disarmed;
// a tap that does not decode refuses Arm.
func TestPostgresArm(t *testing.T) {
	dsn, up := pgDB(t)
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres, Armable: true})
	ctx := context.Background()
	c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	for i := range 3 {
		mustExec(t, c, fmt.Sprintf("SELECT %d", i)) // unarmed: no cut
	}
	if err := tp.Arm(&tap.Cut{After: 2, Scope: tap.PerConn}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "SELECT 4") // 1st since arming
	mustExec(t, c, "SELECT 5") // 2nd: the cut follows its response
	if _, err := c.Exec(ctx, "SELECT 6"); err == nil {
		t.Error("statement after the armed cut succeeded")
	}
	if err := tp.Arm(nil); err != nil {
		t.Fatal(err)
	}
	c2 := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
	for i := range 3 {
		mustExec(t, c2, fmt.Sprintf("SELECT %d", i)) // disarmed: no cut
	}
	if cuts := eventsOf(tp, tap.EventCut); len(cuts) != 1 {
		t.Errorf("%d cut events, want 1: %+v", len(cuts), cuts)
	}
	plain := startTap(t, tap.Config{Upstream: up})
	if err := plain.Arm(&tap.Cut{After: 1}); err == nil {
		t.Error("Arm on a tap that does not decode: no error")
	}
	if p, err := tap.ProtocolNamed(tap.MySQL.String()); err != nil || p != tap.MySQL {
		t.Errorf("ProtocolNamed(mysql) = %v, %v", p, err)
	}
	if _, err := tap.ProtocolNamed("oracle"); err == nil {
		t.Error("ProtocolNamed(oracle): no error")
	}
}

// TestPostgresCutForwardsNothingAfter: the statement a client sends as soon
// as it reads the cut statement's response never reaches the server. 40
// connections each run INSERT (cut after it), then at once a second INSERT:
// the table holds exactly the 40 first rows (before the fix, about a
// quarter of the second INSERTs raced the close to the server).
func TestPostgresCutForwardsNothingAfter(t *testing.T) {
	dsn, up := pgDB(t)
	setup := pgConnect(t, dsn)
	mustExec(t, setup, "CREATE TABLE t (n int)")
	tp := startTap(t, tap.Config{Upstream: up, Protocol: tap.Postgres,
		Cut: &tap.Cut{After: 1, Match: regexp.MustCompile(`^INSERT`), Scope: tap.PerConn, Every: true}})
	ctx := context.Background()
	const conns = 40
	for i := range conns {
		c := pgConnect(t, viaTap(t, dsn, tp.Addr(), "disable"))
		mustExec(t, c, "INSERT INTO t VALUES (1)")
		if _, err := c.Exec(ctx, "INSERT INTO t VALUES (2)"); err == nil {
			t.Fatalf("connection %d: the INSERT after the cut succeeded", i)
		}
	}
	var first, second int
	if err := setup.QueryRow(ctx, "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n = 2) FROM t").Scan(&first, &second); err != nil {
		t.Fatal(err)
	}
	if first != conns || second != 0 {
		t.Errorf("rows: %d first, %d second; want %d and 0", first, second, conns)
	}
}
