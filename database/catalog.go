package database

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// UniqueKeyReader is an optional capability of a Driver whose database has
// a catalog: it reads the column sets that a primary key, a unique index
// or a unique constraint makes unique. `collide discover` asks for it
// (type-asserting the Driver) instead of comparing driver names.
type UniqueKeyReader interface {
	// UniqueKeys returns, per table of db's current schema (name in lower
	// case, without a schema prefix), the unique column sets, each in index
	// order and lower case. Partial and expression indexes are left out:
	// they do not make a plain column set unique.
	UniqueKeys(ctx context.Context, db DB) (map[string][][]string, error)
}

// AddUniqueKey appends cols to keys[table] unless that table already has
// the same set in the same order; helper for UniqueKeyReader
// implementations reading one catalog row per column.
func AddUniqueKey(keys map[string][][]string, table string, cols []string) {
	if len(cols) == 0 {
		return
	}
	for _, have := range keys[table] {
		if equalStrings(have, cols) {
			return
		}
	}
	keys[table] = append(keys[table], cols)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// GroupUniqueKeys turns catalog rows of (table, index, column, position),
// ordered by table, index and position, into the map UniqueKeys returns:
// names lower-cased, an index with a NULL column (an expression) left out,
// duplicate sets kept once, each table's sets sorted.
func GroupUniqueKeys(rows [][]any) map[string][][]string {
	type key struct{ table, index string }
	var order []key
	cols := map[key][]string{}
	bad := map[key]bool{}
	for _, r := range rows {
		if len(r) < 3 {
			continue
		}
		k := key{strings.ToLower(fmt.Sprint(r[0])), fmt.Sprint(r[1])}
		if _, seen := cols[k]; !seen {
			order = append(order, k)
			cols[k] = nil
		}
		if r[2] == nil {
			bad[k] = true
			continue
		}
		cols[k] = append(cols[k], strings.ToLower(fmt.Sprint(r[2])))
	}
	out := map[string][][]string{}
	for _, k := range order {
		if !bad[k] {
			AddUniqueKey(out, k.table, cols[k])
		}
	}
	for _, sets := range out {
		sort.Slice(sets, func(i, j int) bool { return strings.Join(sets[i], ",") < strings.Join(sets[j], ",") })
	}
	return out
}
