package profiles

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusSet is a set of HTTP status codes built from outcome entries: a
// code ("409"), a class ("2xx") or an inclusive range ("200-204").
type StatusSet struct {
	ranges []statusRange
	specs  []string
}

type statusRange struct{ lo, hi int }

// ParseStatusSet parses outcome entries such as ["2xx", "409", "200-204"].
// Codes run from 100 to 599; entries are trimmed and the x of a class may
// be upper case.
func ParseStatusSet(specs []string) (StatusSet, error) {
	var s StatusSet
	for _, spec := range specs {
		r, err := parseStatus(spec)
		if err != nil {
			return StatusSet{}, err
		}
		s.ranges = append(s.ranges, r)
		s.specs = append(s.specs, strings.TrimSpace(spec))
	}
	return s, nil
}

// mustStatusSet parses specs already validated, dropping bad entries.
func mustStatusSet(specs []string) StatusSet {
	var s StatusSet
	for _, spec := range specs {
		if r, err := parseStatus(spec); err == nil {
			s.ranges = append(s.ranges, r)
			s.specs = append(s.specs, strings.TrimSpace(spec))
		}
	}
	return s
}

func parseStatus(spec string) (statusRange, error) {
	s := strings.TrimSpace(spec)
	bad := fmt.Errorf("invalid status %s (want e.g. 2xx, 409 or 200-204)", quote(spec))
	if len(s) == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X') {
		c := s[0]
		if c < '1' || c > '5' {
			return statusRange{}, bad
		}
		lo := int(c-'0') * 100
		return statusRange{lo, lo + 99}, nil
	}
	code := func(t string) (int, bool) {
		t = strings.TrimSpace(t)
		if len(t) != 3 || strings.Trim(t, "0123456789") != "" {
			return 0, false
		}
		n, _ := strconv.Atoi(t)
		return n, n >= 100 && n <= 599
	}
	if a, b, isRange := strings.Cut(s, "-"); isRange {
		lo, ok1 := code(a)
		hi, ok2 := code(b)
		if !ok1 || !ok2 {
			return statusRange{}, bad
		}
		if lo > hi {
			return statusRange{}, fmt.Errorf("invalid status range %s (the low code comes first)", quote(spec))
		}
		return statusRange{lo, hi}, nil
	}
	n, ok := code(s)
	if !ok {
		return statusRange{}, bad
	}
	return statusRange{n, n}, nil
}

// Has reports whether code is in the set.
func (s StatusSet) Has(code int) bool {
	for _, r := range s.ranges {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// Empty reports whether the set holds no code.
func (s StatusSet) Empty() bool { return len(s.ranges) == 0 }

// String lists the entries, e.g. "2xx,409".
func (s StatusSet) String() string { return strings.Join(s.specs, ",") }

// overlap returns the first code in both sets, or 0.
func (s StatusSet) overlap(t StatusSet) int {
	for code := 100; code <= 599; code++ {
		if s.Has(code) && t.Has(code) {
			return code
		}
	}
	return 0
}
