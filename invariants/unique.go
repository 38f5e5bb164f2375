package invariants

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// uniqueCheck is the checker's name, written once: the profile's check: value.
const uniqueCheck = "unique"

func init() {
	Register(Kind[uniqueFields]{
		Name: uniqueCheck, About: "no two rows of a query are equal",
		Query: Optional, Shorthand: true, New: newUnique,
	})
}

// uniqueFields are unique's own fields.
type uniqueFields struct {
	Unique string `yaml:"unique" jsonschema_description:"A query whose rows must all differ (all columns compared), e.g. SELECT idempotency_key FROM orders; or set check: unique and query. Setting it without check selects this checker."`
}

// uniqueChecker is the "unique" checker: no two rows of its query may be
// equal (all columns compared).
type uniqueChecker struct {
	name    string
	query   string
	queries map[string]string // {uniqueCheck: query} when the unique field holds it
}

func newUnique(inv profiles.Invariant, f *uniqueFields) (Checker, error) {
	q, own := f.Unique, true
	if strings.TrimSpace(q) == "" {
		q, own = inv.Query, false // check: unique with query: …
	} else if strings.TrimSpace(inv.Query) != "" {
		return nil, fmt.Errorf("both unique and query are set: put the SQL in unique only")
	}
	if strings.TrimSpace(q) == "" {
		return nil, fmt.Errorf("unique is empty: write a query whose rows must all differ, e.g. SELECT idempotency_key FROM orders")
	}
	c := &uniqueChecker{name: firstNonEmpty(inv.Name, q), query: q}
	if own {
		c.queries = map[string]string{"unique": q}
	}
	return c, nil
}

// Queries is the query of the unique field (see Querier).
func (c *uniqueChecker) Queries() map[string]string { return c.queries }

// Check streams the query's rows and counts repeats. A row with a NULL in any
// column is skipped, as a SQL UNIQUE constraint treats NULLs as distinct.
func (u *uniqueChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	if env == nil || env.DB == nil {
		return errorResult(u.name, uniqueCheck, start, "no database to query")
	}
	var (
		counts   = make(map[string]int32, 1024)
		buf, tmp []byte
		rows     int
		nullRows int
		ncols    int
	)
	_, err := env.DB.Each(ctx, u.query, func(row []any) error {
		rows++
		ncols = len(row)
		if len(row) == 1 {
			if s, ok := row[0].(string); ok && (s == "" || s[0] != 0) {
				counts[s]++ // the driver's fresh string is the key: no copy
				return nil
			}
		}
		var null bool
		if buf, null = appendRowKey(buf[:0], &tmp, row); null {
			nullRows++
			return nil
		}
		counts[string(buf)]++
		return nil
	})
	if err != nil {
		return errorResult(u.name, uniqueCheck, start, "query: %v", err)
	}
	res := Result{
		Name:     u.name,
		Check:    uniqueCheck,
		Verdict:  Pass,
		Expected: "every row unique",
	}
	skipped := ""
	if nullRows > 0 {
		skipped = fmt.Sprintf("; %d rows with NULL skipped", nullRows)
	}
	type dup struct {
		key string
		n   int32
	}
	var dups []dup
	extra := 0
	for k, n := range counts {
		if n > 1 {
			dups = append(dups, dup{k, n})
			extra += int(n) - 1
		}
	}
	if len(dups) == 0 {
		res.Actual = fmt.Sprintf("%d rows, all unique%s", rows, skipped)
		res.Took = time.Since(start)
		return res
	}
	sort.Slice(dups, func(i, j int) bool {
		if dups[i].n != dups[j].n {
			return dups[i].n > dups[j].n
		}
		return dups[i].key < dups[j].key
	})
	res.Verdict = Fail
	res.Anomaly = "duplicate"
	res.Fix = uniqueFix
	res.Actual = fmt.Sprintf("%d duplicated %s in %d rows (%d extra %s)%s",
		len(dups), plural(len(dups), "value", "values"), rows, extra, plural(extra, "row", "rows"), skipped)
	for _, d := range dups[:min(len(dups), MaxEvidence)] {
		res.addEvidence(formatKey(d.key, ncols) + " ×" + strconv.Itoa(int(d.n)))
	}
	top := dups[0]
	res.Explanation = fmt.Sprintf("Let %d rows hold %s", top.n, formatKey(top.key, ncols))
	if creators, more := creatorsOf(env, top.key, ncols); len(creators) > 0 {
		res.Explanation += fmt.Sprintf(", a value %d ok or unknown %s carried (%s)", len(creators)+more, plural(len(creators)+more, "request", "requests"), opIDs(creators))
		for _, o := range creators {
			role := "carried the value"
			if o.Outcome == history.Unknown {
				role = "carried the value, outcome unknown"
			}
			res.addOps(role, o)
		}
		res.MoreOps += more
	}
	res.Explanation += fmt.Sprintf("; Then %s appears %d times where it may appear once", formatKey(top.key, ncols), top.n)
	if len(dups) > 1 {
		res.Explanation += fmt.Sprintf(" (and %d more duplicated %s)", len(dups)-1, plural(len(dups)-1, "value", "values"))
	}
	res.Explanation += "."
	res.Took = time.Since(start)
	return res
}

// Keys. A row of one string column is keyed by the string itself (unless it
// starts with a NUL byte). Every other row is keyed by a NUL byte and then,
// per column, a type tag, the length of the value's text, ':' and the text,
// so that ("a", "bc") ≠ ("ab", "c") and the integer 5 ≠ the text '5', as in a
// UNIQUE constraint.
const (
	tagString = 's'
	tagInt    = 'i'
	tagFloat  = 'f'
	tagBool   = 'b'
	tagTime   = 't'
	tagOther  = 'o'
)

// appendRowKey appends the key of row to b; null reports a NULL column (the
// row is then not keyed). tmp is scratch space.
func appendRowKey(b []byte, tmp *[]byte, row []any) (_ []byte, null bool) {
	b = append(b, 0)
	for _, v := range row {
		var tag byte
		switch v.(type) {
		case nil:
			return b, true
		case string:
			tag = tagString
		case int64:
			tag = tagInt
		case float64:
			tag = tagFloat
		case bool:
			tag = tagBool
		case time.Time:
			tag = tagTime
		default:
			tag = tagOther
		}
		*tmp = appendKey((*tmp)[:0], v)
		b = append(b, tag)
		b = strconv.AppendInt(b, int64(len(*tmp)), 10)
		b = append(b, ':')
		b = append(b, *tmp...)
	}
	return b, false
}

// formatKey renders a key for Evidence: the value, or (a, b) for several
// columns.
func formatKey(key string, ncols int) string {
	if key == "" || key[0] != 0 {
		return formatValue(key)
	}
	var parts []string
	rest := key[1:]
	for rest != "" {
		tag := rest[0]
		n, after, ok := strings.Cut(rest[1:], ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size > len(after) {
			return strconv.Quote(key) // not a key this package wrote
		}
		text := after[:size]
		rest = after[size:]
		if tag == tagString {
			parts = append(parts, formatValue(text))
		} else {
			parts = append(parts, text)
		}
	}
	if ncols == 1 && len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// creatorsOf links a duplicated one-column value to the requests that sent
// or captured it (or a value of 8 characters or more that it holds, such as
// the uuid of "order-<uuid>") (ok or unknown: a failed request created no row), in
// history order: at most MaxOps, and how many more; nil for multi-column
// keys or without a history.
func creatorsOf(env *Env, key string, ncols int) (out []*history.Op, more int) {
	if ncols != 1 || env.HistoryPath == "" || (key != "" && key[0] == 0) {
		return nil, 0
	}
	_ = history.Stream(env.HistoryPath, false, func(o *history.Op) error {
		if o.Outcome == history.Fail {
			return nil
		}
		// The row's value is the op's key or a value it sent or captured,
		// or holds one long enough to be its own (the uuid in
		// "order-{{uuid}}").
		carried := func(t string) bool { return t == key || (len(t) >= 8 && strings.Contains(key, t)) }
		hit := o.Key != "" && carried(o.Key)
		for _, v := range o.Values {
			hit = hit || carried(v)
		}
		for _, v := range o.Captures {
			if t, ok := valueText(v); ok && carried(t) {
				hit = true
			}
		}
		switch {
		case !hit:
		case len(out) < MaxOps:
			kept := *o
			out = append(out, &kept)
		default:
			more++
		}
		return nil
	})
	return out, more
}
