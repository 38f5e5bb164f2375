package history

import "sort"

// Counts are outcome counts: of one operation name, of a whole run (a
// result's totals), of an attack's operation (attacks.Metrics), of the live
// progress line, of a time bucket of a chart. The JSON field names ok, fail
// and unknown are part of result.json's schema.
type Counts struct {
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
}

// Total is OK + Fail + Unknown.
func (c Counts) Total() int { return c.OK + c.Fail + c.Unknown }

// Add counts one op of outcome o; anything but ok and fail counts as unknown.
func (c *Counts) Add(o Outcome) {
	switch o {
	case OK:
		c.OK++
	case Fail:
		c.Fail++
	default:
		c.Unknown++
	}
}

// Plus returns the sum of c and d.
func (c Counts) Plus(d Counts) Counts {
	return Counts{OK: c.OK + d.OK, Fail: c.Fail + d.Fail, Unknown: c.Unknown + d.Unknown}
}

// Tally counts outcomes per operation name. It is not safe for concurrent
// use; Writer guards its own.
type Tally struct {
	byOp map[string]*Counts
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{byOp: map[string]*Counts{}} }

// Add counts one op.
func (t *Tally) Add(op *Op) {
	c := t.byOp[op.Op]
	if c == nil {
		c = &Counts{}
		t.byOp[op.Op] = c
	}
	c.Add(op.Outcome)
}

// Of returns the counts of the named operation; an unseen name has zero counts.
func (t *Tally) Of(name string) Counts {
	if c := t.byOp[name]; c != nil {
		return *c
	}
	return Counts{}
}

// All returns the counts summed over every operation.
func (t *Tally) All() Counts {
	var s Counts
	for _, c := range t.byOp {
		s = s.Plus(*c)
	}
	return s
}

// Names returns the operation names seen, sorted.
func (t *Tally) Names() []string {
	names := make([]string, 0, len(t.byOp))
	for n := range t.byOp {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone returns an independent copy.
func (t *Tally) Clone() *Tally {
	c := NewTally()
	for n, v := range t.byOp {
		vv := *v
		c.byOp[n] = &vv
	}
	return c
}
