package profiles

import "strings"

// OperationNames are the names under which the profile's requests are
// recorded in the history, in profile order: every operation's name and,
// for a flow, "<operation>.<step>" for each of its steps. Invariants
// (op, read_op, write_op, and ok("x") … in expect) must name one of them.
func (p *Profile) OperationNames() []string {
	var names []string
	for _, o := range p.Operations {
		names = append(names, o.Name)
		for _, st := range o.Flow {
			names = append(names, o.Name+"."+st.Name)
		}
	}
	return names
}

// Nearest returns the name in known closest to name (Levenshtein distance,
// case-insensitive) when it is close enough to be a typo of it: at most 2
// edits, and fewer than the length of either. ok is false when none is.
func Nearest(name string, known []string) (best string, ok bool) {
	bestD := 3
	for _, k := range known {
		d := distance(strings.ToLower(name), strings.ToLower(k))
		if d < bestD && d < max(len(k), len(name)) {
			best, bestD, ok = k, d, true
		}
	}
	return best, ok
}

// UnknownName words the error for a name that is not one of known, e.g.
//
//	unknown operation "incrr" (did you mean "incr"? operations: incr, read)
//
// what is the kind of thing named ("operation"), plural its plural for the
// list ("operations").
func UnknownName(what, plural, name string, known []string) string {
	list := orNone(known)
	if best, ok := Nearest(name, known); ok {
		return "unknown " + what + " " + quote(name) + " (did you mean " + quote(best) + "? " + plural + ": " + list + ")"
	}
	return "unknown " + what + " " + quote(name) + " (" + plural + ": " + list + ")"
}
