package redis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
)

// TestAdapter runs the shared adapter suite on the real Redis server.
func TestAdapter(t *testing.T) {
	dbtest.RunAdapterSuite(t, "redis", dbtest.Redis(t), dbtest.RedisStatements)
}

func TestOpenUnreachable(t *testing.T) {
	dbtest.RunUnreachable(t, "redis",
		"redis://:s3cr3t-pw@127.0.0.1:1/0",
		"redis://collide:s3cr3t-pw@127.0.0.1:1/3?dial_timeout=5s",
	)
}

// TestValues checks the shapes and values of the Redis adapter's
// command forms.
func TestValues(t *testing.T) {
	db := dbtest.Redis(t)(t)
	ctx := context.Background()
	dbtest.MustExec(t, db,
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
			got = append(got, dbtest.FormatRow(rows.Columns, r))
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

func TestRedisURLWithDB(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/0":          "redis://127.0.0.1:6379/5",
		"redis://:pw@127.0.0.1:6379":        "redis://:pw@127.0.0.1:6379/5",
		"redis://127.0.0.1:6379/2?protocol": "redis://127.0.0.1:6379/5?protocol",
	} {
		if got := dbtest.RedisURLWithDB(in, 5); got != want {
			t.Errorf("dbtest.RedisURLWithDB(%q) = %q, want %q", in, got, want)
		}
	}
}
