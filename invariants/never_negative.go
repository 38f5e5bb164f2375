package invariants

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

const neverNegativeFix = "Use atomic database operations: a conditional UPDATE … SET balance = balance - $1 WHERE id = $2 AND balance >= $1 (409 when no row changed), a CHECK (balance >= 0) constraint, or SELECT … FOR UPDATE before the check"

// neverNegativeChecker is the "never_negative" checker: no value of Query's
// rows may be below zero. The first column is the key; every other column
// is a value (a single column is the value). Rows are streamed. NULLs are
// not negative and are skipped; a value that is not a number is an error.
type neverNegativeChecker struct {
	name  string
	query string
	w     words
}

// neverNegativeCheck is the checker's name, written once: the profile's check: value.
const neverNegativeCheck = "never_negative"

func init() {
	Register(Kind[struct{}]{
		Name: neverNegativeCheck, About: "no value of a query is below zero (oversell, overdraft)",
		Query: Required, New: newNeverNegative,
	})
}

func newNeverNegative(inv profiles.Invariant, _ *struct{}) (Checker, error) {
	return &neverNegativeChecker{name: checkName(inv, neverNegativeCheck), query: inv.Query, w: wordsOf(inv)}, nil
}

func (c *neverNegativeChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, neverNegativeCheck, "no negative value")
	if env == nil || env.DB == nil {
		return res.errorf(start, "no database to query")
	}
	type bad struct {
		min *big.Rat
		row []any
	}
	var (
		worst    []bad // the most negative rows, at most MaxEvidence
		rows     int
		negative int
		cols     []string
	)
	errNotNumber := errors.New("not a number")
	var notNumber string
	cols, err := env.DB.Each(ctx, c.query, func(row []any) error {
		rows++
		first := 0
		if len(row) > 1 {
			first = 1 // column 0 is the key
		}
		var low *big.Rat
		for i := first; i < len(row); i++ {
			if row[i] == nil {
				continue
			}
			n, err := toRat(row[i])
			if err != nil {
				notNumber = fmt.Sprintf("row %d, column %d: %v", rows, i+1, err)
				return errNotNumber
			}
			if n.Sign() < 0 && (low == nil || n.Cmp(low) < 0) {
				low = n
			}
		}
		if low == nil {
			return nil
		}
		negative++
		if len(worst) == MaxEvidence && low.Cmp(worst[len(worst)-1].min) >= 0 {
			return nil
		}
		b := bad{min: low, row: append([]any(nil), row...)}
		worst = append(worst, b)
		sort.SliceStable(worst, func(i, j int) bool { return worst[i].min.Cmp(worst[j].min) < 0 })
		if len(worst) > MaxEvidence {
			worst = worst[:MaxEvidence]
		}
		return nil
	})
	if errors.Is(err, errNotNumber) {
		return res.errorf(start, "the query must return a key and numbers: %s", notNumber)
	}
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	if len(cols) > 1 {
		res.Expected = "no negative " + strings.Join(cols[1:], " or ") + " in any row"
	} else if len(cols) == 1 {
		res.Expected = "no negative " + cols[0] + " in any row"
	}
	if negative == 0 {
		res.Actual = fmt.Sprintf("%d %s, none negative", rows, plural(rows, "row", "rows"))
		return res.done(start)
	}
	res.Verdict = Fail
	res.Anomaly = "oversell / overdraft (TOCTOU)"
	res.Fix = neverNegativeFix
	res.Actual = fmt.Sprintf("%d of %d %s negative, lowest %s", negative, rows, plural(rows, "row", "rows"), fmtRat(worst[0].min))
	for _, b := range worst {
		res.addEvidence(formatRowValues(cols, b.row))
	}
	c.explain(env, &res, cols, worst[0].row, worst[0].min, negative)
	return res.done(start)
}

// formatRowValues is formatRow, or the bare values when the column names
// do not match the row.
func formatRowValues(cols []string, row []any) string {
	if len(cols) != len(row) {
		parts := make([]string, len(row))
		for i, v := range row {
			parts[i] = formatValue(v)
		}
		return strings.Join(parts, " ")
	}
	return formatRow(cols, row)
}

// explain names the lowest row and the acknowledged requests on its key
// (the history ops whose key is the row's first column).
func (c *neverNegativeChecker) explain(env *Env, res *Result, cols []string, row []any, low *big.Rat, negative int) {
	key, col := "", "the value"
	if len(row) > 1 {
		key, _ = valueText(row[0])
	}
	if len(cols) > 1 {
		col = cols[1]
	} else if len(cols) == 1 {
		col = cols[0]
	}
	where := ""
	if s := c.w.of(key); s != "" {
		where = " of " + s
	}
	var sample []*history.Op
	total := 0
	if key != "" {
		var err error
		if sample, total, err = sampleOK(env, "", func(o *history.Op) bool { return o.Key == key }, -1); err != nil {
			sample, total = nil, 0
		}
	}
	let := fmt.Sprintf("Let the requests%s run", where)
	if total > 0 {
		let = fmt.Sprintf("Let %d acknowledged %s act on %s%s", total, plural(total, "request", "requests"), strings.TrimPrefix(where, " of "), samplePhrase(sample))
	}
	res.Explanation = fmt.Sprintf("%s; Then %s%s ended at %s, below zero", let, col, where, c.w.amount(fmtRat(low)))
	if negative > 1 {
		res.Explanation += fmt.Sprintf(" (and %d more %s below zero)", negative-1, plural(negative-1, "row", "rows"))
	}
	res.Explanation += "."
	res.addOps("acknowledged", sample...)
	res.MoreOps += total - len(sample)
}
