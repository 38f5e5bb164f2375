package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// firstViolation returns, for a run, the time from its first request to its
// first violation and whether the history showed it (else it is the time
// from the first request to the verdict, an upper bound), and the run's
// wall time (stack up to result written).
//
// The history shows a violation for three checkers: no_lost_update with
// version_from (the second acknowledged write based on one version, at its
// completion), locks (the second holder, at its acquisition while another
// held the lock) and exactly_one (the second winner of a key, at its
// completion). The other checkers judge the final database state.
func firstViolation(p *profiles.Profile, res *report.Result, histPath string) (first time.Duration, fromHistory bool, took time.Duration, err error) {
	ops, err := history.ReadAll(histPath)
	if err != nil {
		return 0, false, 0, err
	}
	if len(ops) == 0 {
		return 0, false, 0, errNoHistory
	}
	start := ops[0].Invoke
	for _, o := range ops {
		if o.Invoke.Before(start) {
			start = o.Invoke
		}
	}
	took = res.Finished.Sub(res.Started)
	toVerdict := res.Finished.Sub(start)
	var earliest time.Time
	for i, r := range res.Invariants {
		if r.Verdict != invariants.Fail || i >= len(p.Invariants) || p.Invariants[i].Name != r.Name {
			continue
		}
		t, ok := historyViolation(p.Invariants[i], ops)
		if ok && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	if earliest.IsZero() {
		return toVerdict, false, took, nil
	}
	return earliest.Sub(start), true, took, nil
}

// historyViolation finds when the history first shows inv violated.
func historyViolation(inv profiles.Invariant, all []history.Op) (time.Time, bool) {
	var ops []*history.Op
	for i := range all {
		if all[i].Op == inv.Op && all[i].Outcome == history.OK {
			ops = append(ops, &all[i])
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Complete.Before(ops[j].Complete) })
	switch inv.Check {
	case "no_lost_update":
		if inv.Fields.Text("version_from") == "" {
			return time.Time{}, false
		}
		seen := map[string]bool{}
		for _, o := range ops {
			k, ok1 := groupOf(o, inv.Fields.Text("group"))
			base, ok2 := valueOf(o, inv.Fields.Text("version_from"))
			if !ok1 || !ok2 {
				continue
			}
			if seen[k+"\x00"+base] {
				return o.Complete, true
			}
			seen[k+"\x00"+base] = true
		}
	case "exactly_one":
		values := map[string]string{}
		for _, o := range ops {
			k, ok := groupOf(o, inv.Fields.Text("group"))
			if !ok {
				continue
			}
			v := "" // without value_from every second winner counts
			if inv.Fields.Text("value_from") != "" {
				v, _ = valueOf(o, inv.Fields.Text("value_from"))
			}
			if prev, seen := values[k]; seen && (inv.Fields.Text("value_from") == "" || prev != v) {
				return o.Complete, true
			}
			values[k] = v
		}
	case "locks":
		type hold struct{ acquired, released time.Time }
		holds := map[string][]hold{}
		for _, o := range ops {
			k, ok := groupOf(o, inv.Fields.Text("group"))
			a, ok1 := timeOf(o, "acquired_at")
			r, ok2 := timeOf(o, "released_at")
			if ok && ok1 && ok2 {
				holds[k] = append(holds[k], hold{a, r})
			}
		}
		var first time.Time
		for _, hs := range holds {
			sort.Slice(hs, func(i, j int) bool { return hs[i].acquired.Before(hs[j].acquired) })
			var last time.Time
			for _, h := range hs {
				if !last.IsZero() && h.acquired.Before(last) {
					if first.IsZero() || h.acquired.Before(first) {
						first = h.acquired
					}
					break
				}
				if h.released.After(last) {
					last = h.released
				}
			}
		}
		return first, !first.IsZero()
	}
	return time.Time{}, false
}

// groupOf mirrors the checkers' grouping: the op's key, or the rendered
// value or capture named group.
func groupOf(o *history.Op, group string) (string, bool) {
	if group == "" {
		return o.Key, true
	}
	if v, ok := valueOf(o, group); ok {
		return v, true
	}
	if group == "key" {
		return o.Key, true
	}
	return "", false
}

func valueOf(o *history.Op, name string) (string, bool) {
	if v, ok := o.Values[name]; ok {
		return v, true
	}
	if v, ok := o.Captures[name]; ok && v != nil {
		if f, isFloat := v.(float64); isFloat && f == float64(int64(f)) {
			return fmt.Sprint(int64(f)), true
		}
		return fmt.Sprint(v), true
	}
	return "", false
}

func timeOf(o *history.Op, name string) (time.Time, bool) {
	s, ok := o.Captures[name].(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
