package tap_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/collide-dev/collide/chaos/tap"
)

// mysqlVia opens a database/sql handle on cfg's database through addr.
func mysqlVia(t testing.TB, cfg *mysql.Config, addr string) *sql.DB {
	t.Helper()
	c := cfg.Clone()
	c.Addr = addr
	c.InterpolateParams = false
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMySQLRecordsStatements(t *testing.T) {
	cfg := mysqlDB(t)
	rec := tap.NewRecorder(1000)
	tp := startTap(t, tap.Config{Upstream: cfg.Addr, Protocol: tap.MySQL, Recorder: rec})
	db := mysqlVia(t, cfg, tp.Addr())
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE acct (id INT PRIMARY KEY, name VARCHAR(20), balance BIGINT, at DATETIME, f DOUBLE)")
	exec("INSERT INTO acct VALUES (?, ?, ?, ?, ?)", 1, "alice", int64(-100), time.Date(2026, 12, 5, 10, 11, 12, 0, time.UTC), 1.5)
	exec("INSERT INTO acct VALUES (?, ?, ?, ?, ?)", 2, nil, int64(7), nil, nil)
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM acct WHERE balance < ?", 0).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count: %d, %v", n, err)
	}
	rows, err := db.QueryContext(ctx, "SELECT id FROM acct ORDER BY id") // no args: COM_QUERY
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	if _, err := db.ExecContext(ctx, "SELECT nope FROM acct"); err == nil {
		t.Fatal("want an error for an unknown column")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE acct SET balance = balance + ? WHERE id = ?", 5, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	multi := cfg.Clone()
	multi.MultiStatements = true
	multi.Addr = tp.Addr()
	mdb, err := sql.Open("mysql", multi.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	if _, err := mdb.ExecContext(ctx, "UPDATE acct SET name = 'x' WHERE id = 1; DELETE FROM acct WHERE id = 99"); err != nil {
		t.Fatal(err)
	}
	stmts := rec.Statements()

	tests := []struct {
		name   string
		sub    string
		index  int
		params []string
		tag    string
		err    string
		inTxn  bool
	}{
		{name: "two statements in one COM_QUERY", sub: "UPDATE acct SET name = 'x'", tag: "OK 1; OK 0"},
		{name: "text query (COM_QUERY)", sub: "CREATE TABLE acct", tag: "OK 0"},
		{name: "prepared insert, typed params", sub: "INSERT INTO acct", params: []string{"1", "alice", "-100", "2026-12-05 10:11:12", "1.5"}, tag: "OK 1"},
		{name: "prepared insert with NULLs", sub: "INSERT INTO acct", index: 1, params: []string{"2", "NULL", "7", "NULL", "NULL"}, tag: "OK 1"},
		{name: "prepared select", sub: "SELECT count(*)", params: []string{"0"}, tag: "rows 1"},
		{name: "text select", sub: "SELECT id FROM acct", tag: "rows 2"},
		{name: "error", sub: "SELECT nope", err: "1054 (42S22): Unknown column 'nope' in "},
		{name: "begin", sub: "START TRANSACTION", tag: "OK 0", inTxn: true},
		{name: "update in transaction", sub: "UPDATE acct", params: []string{"5", "1"}, tag: "OK 1", inTxn: true},
		{name: "commit", sub: "COMMIT", tag: "OK 0", inTxn: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := find(stmts, tc.sub)
			if len(got) <= tc.index {
				t.Fatalf("no statement %d containing %q among %+v", tc.index, tc.sub, stmts)
			}
			s := got[tc.index]
			if tc.params != nil && strings.Join(paramsText(s.Params), ",") != strings.Join(tc.params, ",") {
				t.Errorf("params %v, want %v", paramsText(s.Params), tc.params)
			}
			if s.Tag != tc.tag || !strings.HasPrefix(s.Err, tc.err) || (tc.err == "") != (s.Err == "") || s.InTxn != tc.inTxn {
				t.Errorf("tag %q err %q inTxn %v, want %q %q %v", s.Tag, s.Err, s.InTxn, tc.tag, tc.err, tc.inTxn)
			}
			if tc.inTxn && s.TxnID != 1 {
				t.Errorf("txn %d, want 1", s.TxnID)
			}
			if s.Start.IsZero() || s.End.Before(s.Start) {
				t.Errorf("start %v end %v", s.Start, s.End)
			}
		})
	}
	if ev := eventsOf(tp, tap.EventUndecodable); len(ev) != 0 {
		t.Errorf("undecodable: %+v", ev)
	}
}

func TestMySQLCutAfterFirstInsertRollsBack(t *testing.T) {
	cfg := mysqlDB(t)
	direct := mysqlVia(t, cfg, cfg.Addr)
	ctx := context.Background()
	if _, err := direct.ExecContext(ctx, "CREATE TABLE pay (v INT) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	tp := startTap(t, tap.Config{Upstream: cfg.Addr, Protocol: tap.MySQL, Recorder: tap.NewRecorder(100),
		Cut: &tap.Cut{After: 1, Match: regexp.MustCompile(`^INSERT`), Scope: tap.PerTxn}})
	db := mysqlVia(t, cfg, tp.Addr())
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO pay VALUES (?)", 1); err != nil {
		t.Fatalf("first INSERT should succeed: %v", err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO pay VALUES (?)", 2)
	if err == nil {
		t.Fatal("second INSERT succeeded; want a connection error")
	}
	t.Logf("client error: %v", err)
	tx.Rollback() //nolint:errcheck // the connection is gone
	if cuts := eventsOf(tp, tap.EventCut); len(cuts) != 1 {
		t.Errorf("cut events %+v", cuts)
	}
	eventually(t, 5*time.Second, "the server to roll the transaction back", func() bool {
		var n int
		err := direct.QueryRowContext(ctx, "SELECT count(*) FROM pay").Scan(&n)
		return err == nil && n == 0
	})
}

func TestMySQLBytesUnchanged(t *testing.T) {
	cfg := mysqlDB(t)
	const q = "SELECT n, md5(n), repeat('x', n % 300) FROM (SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d AS n FROM dg a, dg b, dg c, dg e, dg f) g WHERE n < 50000 ORDER BY n"
	digest := func(db *sql.DB, args ...any) string {
		rows, err := db.QueryContext(context.Background(), q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		h := sha256.New()
		var a, b, c sql.RawBytes
		n := 0
		for rows.Next() {
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00", a, b, c)
			n++
		}
		if err := rows.Err(); err != nil || n != 50000 {
			t.Fatalf("rows %d, %v", n, err)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	db0 := mysqlVia(t, cfg, cfg.Addr)
	for _, q := range []string{"CREATE TABLE dg (d INT)", "INSERT INTO dg VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)"} {
		if _, err := db0.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	want := digest(db0)
	tests := []struct {
		name string
		cfg  tap.Config
	}{
		{name: "plain relay", cfg: tap.Config{Upstream: cfg.Addr}},
		{name: "recording tap", cfg: tap.Config{Upstream: cfg.Addr, Protocol: tap.MySQL, Recorder: tap.NewRecorder(10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := startTap(t, tc.cfg)
			if got := digest(mysqlVia(t, cfg, tp.Addr())); got != want {
				t.Errorf("digest through the tap %s, direct %s", got, want)
			}
		})
	}
}

// TestMySQLTLSRefused puts the tap in front of a minimal server whose
// greeting offers TLS (the test MariaDB has TLS off): a client that asks for
// TLS is refused, the refusal names the link, and nothing stays open.
func TestMySQLTLSRefused(t *testing.T) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(fakeGreeting())                            //nolint:errcheck // the test checks the client's side
		c.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // bounds the read below
		io.Copy(io.Discard, c)                             //nolint:errcheck // until the tap closes the connection
	}()
	tp := startTap(t, tap.Config{Name: "database", Upstream: ln.Addr().String(), Protocol: tap.MySQL, Recorder: tap.NewRecorder(100)})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.TLSConfig = "collide", "collide", "tcp", tp.Addr(), "skip-verify"
	cfg.Timeout = 5 * time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil {
		t.Fatal("ping succeeded; want the TLS handshake to fail")
	}
	t.Logf("client error: %v", err)
	refusals := eventsOf(tp, tap.EventTLSRefused)
	if len(refusals) == 0 {
		t.Fatal("no TLS refusal recorded")
	}
	if msg := refusals[0].Err.Error(); !errors.Is(refusals[0].Err, tap.ErrTLS) || !strings.Contains(msg, "TLS on the database link") {
		t.Errorf("refusal %q", msg)
	}
	t.Logf("recorded: %v", refusals[0].Err)
	<-served
	eventually(t, 5*time.Second, "connections left open through the tap", func() bool { return tp.Active() == 0 })
}

// fakeGreeting is a protocol-10 handshake packet offering CLIENT_SSL.
func fakeGreeting() []byte {
	caps := uint32(0x00000200 | 0x00000800 | 0x00008000 | 0x00080000 | 0x00000001 | 0x00000008)
	var b []byte
	b = append(b, 10)
	b = append(b, "5.7.99-fake\x00"...)
	b = binary.LittleEndian.AppendUint32(b, 7)
	b = append(b, "abcdefgh"...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps))
	b = append(b, 33)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps>>16))
	b = append(b, 21)
	b = append(b, make([]byte, 10)...)
	b = append(b, "ijklmnopqrst\x00"...)
	b = append(b, "mysql_native_password\x00"...)
	hdr := []byte{byte(len(b)), byte(len(b) >> 8), byte(len(b) >> 16), 0}
	return append(hdr, b...)
}
