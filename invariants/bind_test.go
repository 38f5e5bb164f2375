package invariants

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
)

func TestBind(t *testing.T) {
	vars := map[string]string{"id": "42", "token": "t'; DROP TABLE x; --"}
	cases := map[string]struct {
		driver, in, want string
		args             []any
		err              string
	}{
		"postgres numbers, reused":  {"postgres", "SELECT 1 WHERE a = {{id}} AND b = {{token}} AND c = {{ id }}", "SELECT 1 WHERE a = $1 AND b = $2 AND c = $1", []any{"42", "t'; DROP TABLE x; --"}, ""},
		"sqlite question marks":     {"sqlite", "SELECT 1 WHERE a = {{id}} AND c = {{id}}", "SELECT 1 WHERE a = ? AND c = ?", []any{"42", "42"}, ""},
		"mysql question marks":      {"mysql", "DELETE FROM t WHERE token = {{token}}", "DELETE FROM t WHERE token = ?", []any{"t'; DROP TABLE x; --"}, ""},
		"redis within a word":       {"redis", "SCARD favorites:{{id}}", "SCARD favorites:$1", []any{"42"}, ""},
		"not variables left alone":  {"postgres", `SELECT '{{1,2}}'::int[], '{{nope}}', {{env "X"}}`, `SELECT '{{1,2}}'::int[], '{{nope}}', {{env "X"}}`, nil, ""},
		"quoted variable is error":  {"sqlite", "SELECT 1 WHERE a = '{{id}}'", "", nil, "{{id}} is inside a quoted string"},
		"quote closed, then bound":  {"postgres", "SELECT 'it''s' WHERE a = {{id}}", "SELECT 'it''s' WHERE a = $1", []any{"42"}, ""},
		"redis quotes are no error": {"redis", `SET "k {{id}}" v`, `SET "k $1" v`, []any{"42"}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, args, err := Bind(SyntaxOf(tc.driver), tc.in, vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || !reflect.DeepEqual(args, tc.args) {
				t.Fatalf("Bind = %q %v %v, want %q %v", got, args, err, tc.want, tc.args)
			}
		})
	}
}

// TestBindVarsOnEveryAdapter: through BindVars, a checker's query and a
// setup statement use a variable as a bind parameter on each real
// database: a value full of quotes is one value, never SQL.
func TestBindVarsOnEveryAdapter(t *testing.T) {
	evil := "r'1; DROP TABLE favorites; --"
	sqlCase := struct{ setup, insert, query, unique string }{
		setup:  "CREATE TABLE favorites (resource_id VARCHAR(64), user_id INTEGER)",
		insert: "INSERT INTO favorites VALUES ({{resource}}, {{user}})",
		query:  "SELECT COUNT(*) AS n FROM favorites WHERE resource_id = {{resource}} AND user_id = {{user}}",
		unique: "SELECT resource_id FROM favorites WHERE resource_id = {{resource}}",
	}
	adapters := map[string]struct {
		open                         func(t *testing.T) database.DB
		setup, insert, query, unique string
	}{
		"sqlite":   {dbtest.SQLite, sqlCase.setup, sqlCase.insert, sqlCase.query, sqlCase.unique},
		"postgres": {dbtest.Postgres(t), sqlCase.setup, sqlCase.insert, sqlCase.query, sqlCase.unique},
		"mysql":    {dbtest.MySQL(t), sqlCase.setup, sqlCase.insert, sqlCase.query, sqlCase.unique},
		"redis":    {dbtest.Redis(t), "DEL favorites:{{resource}}", "RPUSH favorites:{{resource}} {{user}}", "LLEN favorites:{{resource}}", "LRANGE favorites:{{resource}} 0 -1"},
	}
	for name, a := range adapters {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := BindVars(a.open(t), map[string]string{"resource": evil, "user": "7"})
			for _, q := range []string{a.setup, a.insert, a.insert} {
				if err := db.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			column := "n"
			if name == "redis" {
				column = "value"
			}
			c, err := testNew(flatInv{Name: "two favorites", Query: a.query, Expect: column + " == 2"})
			if err != nil {
				t.Fatal(err)
			}
			if res := c.Check(ctx, &Env{DB: db, Tally: newTally(nil)}); res.Verdict != Pass {
				t.Fatalf("expect = %s %q %s, want pass", res.Verdict, res.Actual, res.Error)
			}
			u, err := testNew(flatInv{Name: "unique", Unique: a.unique})
			if err != nil {
				t.Fatal(err)
			}
			res := u.Check(ctx, &Env{DB: db})
			if res.Verdict != Fail { // the same favorite was inserted twice
				t.Fatalf("unique = %s %q %s, want fail", res.Verdict, res.Actual, res.Error)
			}
		})
	}
}
