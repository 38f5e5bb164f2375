package dbtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database"
)

// Dialect is one SQL database the shared suites run on.
type Dialect struct {
	Name string
	// Opener is called once per suite and returns a function giving each
	// test a fresh, empty database.
	Opener func(parent *testing.T) func(t *testing.T) database.DB
	// Series is a query whose column x counts from 1 to n.
	Series func(n int) string
	// Concat is the SQL concatenating two text expressions.
	Concat func(a, b string) string
}

func recursiveSeries(n int) string {
	return fmt.Sprintf(`WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d) SELECT x FROM s`, n)
}

// digitSeries counts without recursion (MariaDB stops recursive CTEs at
// 1000 iterations by default): a cross join of decimal digits.
func digitSeries(n int) string {
	digits := "SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9"
	places := 1
	for p := 10; p < n; p *= 10 {
		places++
	}
	var from, sum []string
	mul := 1
	for i := range places {
		from = append(from, fmt.Sprintf("(%s) d%d", digits, i))
		sum = append(sum, fmt.Sprintf("%d * d%d.d", mul, i))
		mul *= 10
	}
	return fmt.Sprintf("SELECT x FROM (SELECT %s + 1 AS x FROM %s) s WHERE x <= %d ORDER BY x", strings.Join(sum, " + "), strings.Join(from, " CROSS JOIN "), n)
}

func pipeConcat(a, b string) string { return a + " || " + b }

// Dialects are the SQL databases collide ships drivers for.
var Dialects = []Dialect{
	{"sqlite", func(*testing.T) func(*testing.T) database.DB { return SQLite }, recursiveSeries, pipeConcat},
	{"postgres", Postgres, recursiveSeries, pipeConcat},
	{"mysql", MySQL, digitSeries, func(a, b string) string { return "CONCAT(" + a + ", " + b + ")" }},
}

// DialectOf returns the Dialect of the named driver; it panics for a
// driver that has none.
func DialectOf(name string) Dialect {
	for _, d := range Dialects {
		if d.Name == name {
			return d
		}
	}
	panic("dbtest: no dialect " + name)
}
