package invariants

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
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
	runCheckerSuite(t, "redis", dbtest.Redis(t), redisCheckCases)
}
