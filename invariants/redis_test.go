package invariants

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

const sumHash = `EVAL "local s = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) do s = s + tonumber(v) end return s" 1 balances`

// redisCheckCases run the checkers on Redis state, read with the command
// forms of the Redis adapter.
var redisCheckCases = []checkCase{
	{name: "expect on GET", inv: flatInv{Query: `GET counter`, Expect: bound}, setup: []string{`SET counter 10`}, tally: incr8ok3unknown, want: Pass, wantActual: `value=10, ok("incr")=8`},
	{name: "counter on GET", inv: with(counterInv, func(i *flatInv) { i.Query = `GET counter` }), setup: []string{`SET counter 100`}, attack: []string{`INCRBY counter 10`}, tally: incr8ok3unknown, want: Pass},
	{
		name: "counter on GET lost update", inv: with(counterInv, func(i *flatInv) { i.Query = `GET counter` }), setup: []string{`SET counter 100`}, attack: []string{`INCRBY counter 5`}, tally: incr8ok3unknown,
		want: Fail, wantAnomaly: "lost update", wantEvidence: []string{"before the attack: value=100", "after: value=105", "incr: 8 ok, 2 fail, 3 unknown"},
	},
	{name: "counter on a missing key is an error", inv: with(counterInv, func(i *flatInv) { i.Query = `GET counter` }), tally: incr8ok3unknown, prepareErr: "no rows", want: Error, wantError: "no rows"},
	{
		name: "never_negative on HGETALL", inv: with(nonNegInv, func(i *flatInv) { i.Query = `HGETALL balances` }), setup: []string{`HSET balances a 10 b 5`}, attack: []string{`HINCRBY balances b -8`},
		want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantEvidence: []string{`field="b" value=-3`},
	},
	{name: "conservation on a Lua sum", inv: with(conservedInv, func(i *flatInv) { i.Query = sumHash }), setup: []string{`HSET balances a 100 b 50`}, attack: []string{`HSET balances a 70 b 80`}, want: Pass, wantActual: "value = 150 (+0 since setup)"},
	{name: "conservation on a Lua sum, money created", inv: with(conservedInv, func(i *flatInv) { i.Query = sumHash }), setup: []string{`HSET balances a 100 b 50`}, attack: []string{`HSET balances b 80`}, want: Fail, wantAnomaly: "conserved total created"},
	{name: "bounded_debits on GET", inv: with(debitInv, func(i *flatInv) { i.Query = `GET stock`; i.Floor = ptrTo(0.0) }), setup: []string{`SET stock 100`}, attack: []string{`DECRBY stock 120`}, tally: map[string]counts{"debit": {12, 0, 0}}, want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)"},
	{
		name: "all_present on SMEMBERS", inv: with(presentInv, func(i *flatInv) { i.Query = `SMEMBERS items` }), setup: []string{`SADD items seed-1`}, attack: []string{`SADD items u-1 u-3`}, hist: addOps,
		want: Fail, wantAnomaly: "lost insert", wantActual: "1 acknowledged item missing",
	},
	{
		name: "newest_wins on HGETALL", inv: with(newestInv, func(i *flatInv) { i.Query = `HGETALL results` }), setup: []string{`HSET results asset-1 0 asset-2 0`},
		attack: []string{`HSET results asset-1 1 asset-2 4`}, hist: regenOps, want: Fail, wantAnomaly: "stale overwrite (out-of-order completion)",
	},
	{name: "no_lost_update on HGETALL", inv: with(noLostInv, func(i *flatInv) { i.Query = `HGETALL versions` }), setup: []string{`HSET versions 1 5 2 5`}, attack: []string{`HINCRBY versions 1 1`}, hist: []hOp{save(1, hOK, 0), save(2, hOK, 1)}, want: Fail, wantAnomaly: "lost update (last write wins silently)"},
	{name: "linearizable initial values from HGETALL", inv: with(linInv, func(i *flatInv) { i.Query = `HGETALL regs` }), setup: []string{`HSET regs k 0`}, hist: []hOp{get(1, 0, 10, 0), put(2, hOK, 20, 10, "1"), get(3, 40, 10, 1)}, want: Pass},
	{name: "unique on LRANGE", inv: flatInv{Unique: `LRANGE orders 0 -1`}, setup: []string{`RPUSH orders k-1 k-2 k-1 7 7`}, want: Fail, wantEvidence: []string{`7 ×2`, `"k-1" ×2`}},
	{name: "unique on KEYS", inv: flatInv{Unique: `KEYS order:*`}, setup: []string{`SET order:1 a`, `SET order:2 b`}, want: Pass, wantActual: "2 rows, all unique"},
	{name: "query of the wrong type is an error", inv: with(counterInv, func(i *flatInv) { i.Query = `HGETALL counter` }), setup: []string{`SET counter 1`}, tally: incr8ok3unknown, prepareErr: "WRONGTYPE", want: Error, wantError: "WRONGTYPE"},
	{name: "closed database is an error", inv: with(conservedInv, func(i *flatInv) { i.Query = `GET total` }), setup: []string{`SET total 5`}, closeDB: true, want: Error},
}

func TestRedisCheckers(t *testing.T) {
	runCheckerSuite(t, "redis", redisOpener(t), redisCheckCases)
}

// TestRedisValues checks the shapes and values of the Redis adapter's
// command forms.
func TestRedisValues(t *testing.T) {
	db := redisOpener(t)(t)
	ctx := context.Background()
	mustExec(t, db,
		`SET n 42`, `SET neg -7`, `SET padded 007`, `SET f 1.5`, `SET greeting "hello \"world\""`, `SET quoted 'it\'s'`,
		`HSET h b 2 a 1`, `SADD s z y x`, `RPUSH l c b a`, `ZADD z 2 two 1 one`, `MSET m1 x m2 y`)
	for _, tc := range []struct{ cmd, want string }{
		{`GET n`, `value=42`},
		{`GET neg`, `value=-7`},
		{`GET padded`, `value="007"`},
		{`GET f`, `value="1.5"`},
		{`GET greeting`, `value="hello \"world\""`},
		{`GET quoted`, `value="it's"`},
		{`GET missing`, ``},
		{`HGETALL h`, `field="a" value=1|field="b" value=2`},
		{`HGET h a`, `value=1`},
		{`HKEYS h`, `field="a"|field="b"`},
		{`SMEMBERS s`, `member="x"|member="y"|member="z"`},
		{`LRANGE l 0 -1`, `value="c"|value="b"|value="a"`},
		{`ZRANGE z 0 -1`, `member="one"|member="two"`},
		{`ZRANGE z 0 -1 WITHSCORES`, `member="one" score=1|member="two" score=2`},
		{`MGET m1 nope m2`, `key="m1" value="x"|key="m2" value="y"`},
		{`KEYS m*`, `key="m1"|key="m2"`},
		{`SCARD s`, `value=3`},
		{`EXISTS n missing`, `value=1`},
		{`EVAL "return {1, 2}" 0`, `value=1|value=2`},
	} {
		rows, err := db.Query(ctx, tc.cmd)
		if err != nil {
			t.Errorf("%s: %v", tc.cmd, err)
			continue
		}
		var got []string
		for _, r := range rows.Values {
			got = append(got, formatRow(rows.Columns, r))
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("%s = %s, want %s", tc.cmd, strings.Join(got, "|"), tc.want)
		}
	}
	// A score is a float64, a canonical integer text an int64.
	rows, err := db.Query(ctx, `ZRANGE z 0 0 WITHSCORES`)
	if err != nil || rows.Values[0][1] != 1.0 {
		t.Errorf("score = %#v (%v), want float64 1", rows, err)
	}
	if err := db.Exec(ctx, `SET "unbalanced`); err == nil || !strings.Contains(err.Error(), "unbalanced") {
		t.Errorf("unbalanced quote: %v", err)
	}
	if err := db.Exec(ctx, `   `); err == nil {
		t.Error("empty command: no error")
	}
}

func TestRedisArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{`SET k v`, []string{"SET", "k", "v"}, false},
		{"  HSET  h\tf  \"a b\"  ", []string{"HSET", "h", "f", "a b"}, false},
		{`SET k "tab\there\x41\n"`, []string{"SET", "k", "tab\thereA\n"}, false},
		{`SET k 'a\'b\n'`, []string{"SET", "k", `a'b\n`}, false},
		{`SET k ""`, []string{"SET", "k", ""}, false},
		{`SET k "a"b`, nil, true},
		{`SET k 'a`, nil, true},
		{``, nil, true},
	} {
		args, err := redisArgs(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("redisArgs(%q): no error", tc.in)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%q", args) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("redisArgs(%q) = %q, %v; want %q", tc.in, args, err, tc.want)
		}
	}
}

func TestRedisURLWithDB(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/0":          "redis://127.0.0.1:6379/5",
		"redis://:pw@127.0.0.1:6379":        "redis://:pw@127.0.0.1:6379/5",
		"redis://127.0.0.1:6379/2?protocol": "redis://127.0.0.1:6379/5?protocol",
	} {
		if got := redisURLWithDB(in, 5); got != want {
			t.Errorf("redisURLWithDB(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMySQLConfig(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"collide:collide@tcp(127.0.0.1:3306)/collide", "collide:collide@tcp(127.0.0.1:3306)/collide?parseTime=true&timeout=10s"},
		{"u:p@tcp(db:3306)/app?parseTime=false&timeout=2s", "u:p@tcp(db:3306)/app?timeout=2s"},
		{"mysql://u:p%2Fw@127.0.0.1/app?loc=Local", "u:p/w@tcp(127.0.0.1:3306)/app?loc=Local&parseTime=true&timeout=10s"},
		{"mariadb://u@[::1]:3307/app", "u@tcp([::1]:3307)/app?parseTime=true&timeout=10s"},
	} {
		cfg, err := mysqlConfig(tc.in)
		if err != nil {
			t.Errorf("mysqlConfig(%q): %v", tc.in, err)
			continue
		}
		if got := cfg.FormatDSN(); got != tc.want {
			t.Errorf("mysqlConfig(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := mysqlConfig("not a dsn"); err == nil {
		t.Error("bad DSN: no error")
	}
}

// TestOpenMySQLRedisRedaction: a refused connection names the server with
// the password hidden.
func TestOpenMySQLRedisRedaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ driver, dsn string }{
		{"mysql", "not a dsn"},
		{"redis", "http://x"},
	} {
		if db, err := Open(ctx, tc.driver, tc.dsn); err == nil {
			db.Close()
			t.Errorf("%s %q: no error", tc.driver, tc.dsn)
		}
	}
}
