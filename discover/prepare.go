package discover

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DebitRoom is how many debits of the recorded amount a generated
// toctou-debit profile's setup leaves room for: a burst of BurstCopies
// debits of one row can only partly succeed legitimately, so any more
// acknowledged debits (or a balance below zero) prove the race.
const DebitRoom = 4

// traceSteps reads tr's statements in start order, one step per statement
// of a batch, as the analysis does.
func traceSteps(tr *Trace) []step {
	if tr == nil {
		return nil
	}
	var out []step
	for _, st := range tr.Statements {
		if st.Err != "" {
			continue
		}
		for _, part := range splitStatements(st.Text) {
			one := st
			one.Text = part
			out = append(out, step{pos: len(out) + 1, st: one, p: parse(part)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].st.Start.Before(out[j].st.Start) })
	return out
}

// debitRow is the row a toctou-debit's write lowers: the key column and
// value of its WHERE, the column, and the amount of one debit.
type debitRow struct {
	key, value, col string
	amount          float64
}

// debitOf finds, in the trace, the write of f's table that lowers one of
// f.Columns of one row (WHERE key = value): a write col = col - x gives the
// amount x (a bound parameter or a literal); a write of a computed value
// (col = ?) takes the amount from the request's JSON body (a number field
// named amount, quantity, qty …), else 1. Writes that subtract come first.
func debitOf(f Finding, req Request, tr *Trace) (debitRow, bool) {
	var best debitRow
	found, sub := false, false
	for _, s := range traceSteps(tr) {
		if s.p.table != strings.ToLower(f.Table) || !(s.p.kind == kUpdate || s.p.kind == kInsert && s.p.upsert) {
			continue
		}
		for _, set := range s.p.sets {
			if !containsFold(f.Columns, set.col) || (set.self && !set.sub) {
				continue
			}
			preds := eqPreds(s.p)
			for _, c := range sortedCols(preds) {
				w := preds[c]
				if w.op != "=" || c == set.col {
					continue
				}
				v, ok := value(s.st, w.val)
				if !ok || found && (sub || !set.sub) {
					continue
				}
				amount, ok := subtracted(s, set.col)
				if !ok {
					amount = bodyAmount(req)
				}
				best, found, sub = debitRow{key: c, value: v, col: set.col, amount: amount}, true, set.sub
			}
		}
	}
	return best, found
}

// subtracted reads x of "col = col - x" in s: a parameter's bound value or
// a number.
func subtracted(s step, col string) (float64, bool) {
	toks := tokenize(s.st.Text)
	for i := 0; i+4 < len(toks); i++ {
		t := toks[i : i+5]
		if t[0].kind == tIdent && t[0].text == col && t[1].text == "=" && t[2].kind == tIdent && t[2].text == col && t[3].text == "-" {
			if v, ok := value(s.st, t[4]); ok {
				if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
					return n, true
				}
			}
		}
	}
	return 0, false
}

// amountName names a request's body field that holds how much one request
// debits.
var amountName = regexp.MustCompile(`(?i)^(amount|quantity|qty|count|units|value|sum|total)$`)

// bodyAmount is the first positive number of req's JSON body in a field
// named like an amount; 1 when there is none.
func bodyAmount(req Request) float64 {
	var body map[string]json.RawMessage
	if json.Unmarshal(req.Body, &body) != nil {
		return 1
	}
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		var n float64
		if amountName.MatchString(k) && json.Unmarshal(body[k], &n) == nil && n > 0 {
			return n
		}
	}
	return 1
}

// recordedKey is the WHERE of the check a double submit races past: the
// columns of f.Columns the trace's SELECT of f's table pinned, with the
// values it bound, as an SQL condition (resource_id = 1 AND user_id = 7).
// "" when the trace does not give every value.
func recordedKey(f Finding, tr *Trace) string {
	for _, s := range traceSteps(tr) {
		if s.p.kind != kSelect || s.p.table != strings.ToLower(f.Table) {
			continue
		}
		preds := eqPreds(s.p)
		var conds []string
		for _, c := range f.Columns {
			w, ok := preds[strings.ToLower(c)]
			if !ok || w.op != "=" {
				conds = nil
				break
			}
			v, ok := value(s.st, w.val)
			if !ok {
				conds = nil
				break
			}
			conds = append(conds, strings.ToLower(c)+" = "+quoted(v))
		}
		if len(conds) > 0 {
			return strings.Join(conds, " AND ")
		}
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// number writes n as a YAML/SQL number: 40, 2.5.
func number(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// quoted writes v as a quoted SQL literal: PostgreSQL and MariaDB both
// compare '1' with a number column and with a text one.
func quoted(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// leaseOf reports whether f's row is a lease: the trace writes the row of
// f's table (an UPDATE or upsert WHERE/ON CONFLICT key = value) and then
// deletes it again (DELETE FROM t WHERE key = value …). Such a row is
// missing before and after the request, so no counter can read it; what
// races is the taking: two requests that both found it free both hold it.
// It returns the key column and value.
func leaseOf(f Finding, tr *Trace) (key, val string, ok bool) {
	table := strings.ToLower(f.Table)
	written := map[string]string{} // key column → value written
	read := map[string]string{}    // column a SELECT pinned → its value
	for _, s := range traceSteps(tr) {
		if s.p.table != table {
			continue
		}
		switch {
		case s.p.kind == kInsert && s.p.upsert:
			cols := s.p.conflictCols
			if len(cols) == 0 { // ON DUPLICATE KEY UPDATE: any inserted column may be the key
				cols = s.p.insertCols
			}
			for i, c := range s.p.insertCols {
				if containsFold(cols, c) {
					if v, ok := value(s.st, paramAt(s, i)); ok {
						written[c] = v
					}
				}
			}
		case s.p.kind == kUpdate:
			for c, w := range eqPreds(s.p) {
				if v, ok := value(s.st, w.val); ok && w.op == "=" {
					written[c] = v
				}
			}
		case s.p.kind == kSelect:
			for c, w := range eqPreds(s.p) {
				if v, ok := value(s.st, w.val); ok && w.op == "=" {
					read[c] = v
				}
			}
		case s.p.kind == kDelete && len(written) > 0:
			// The deleted row's key: a column the DELETE pins to the value
			// written, preferably one the read pinned to it too (name, not
			// the holder token of … WHERE name = ? AND holder = ?).
			found := false
			preds := eqPreds(s.p)
			for _, c := range sortedCols(preds) {
				w := preds[c]
				v, ok := value(s.st, w.val)
				if !ok || w.op != "=" || written[c] != v {
					continue
				}
				if read[c] == v {
					return c, v, true
				}
				if !found {
					key, val, found = c, v, true
				}
			}
			if found {
				return key, val, true
			}
		}
	}
	return "", "", false
}

// sortedCols is the columns of preds, sorted.
func sortedCols(preds map[string]pred) []string {
	out := make([]string, 0, len(preds))
	for c := range preds {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// paramAt is the token of the i-th value of an INSERT's first VALUES row.
func paramAt(s step, i int) token {
	toks := tokenize(s.st.Text)
	for j, t := range toks {
		if t.kind != tIdent || t.text != "values" || j+1 >= len(toks) || toks[j+1].text != "(" {
			continue
		}
		n := 0
		for _, v := range toks[j+2:] {
			switch {
			case v.text == ")":
				return token{}
			case v.text == ",":
				n++
			case n == i && (v.kind == tParam || v.kind == tNumber || v.kind == tString):
				return v
			}
		}
	}
	return token{}
}
