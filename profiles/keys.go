package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxKeys bounds the keys of a list, a range or a key query's result.
const MaxKeys = 100_000

// Keys is what an operation's {{key}} draws from, written in one of four
// forms:
//
//	keys: 50                                Count: key-0 … key-49
//	keys: [7, 9, 12]                        List: the values themselves, as text
//	keys: {from: 1, to: 100}                From, To: the integers 1 … 100
//	keys: {query: "SELECT id FROM items"}   Query: the first column of each row
//	keys: {capture: item}                   Capture: what setup captured (one per repeat)
//
// Every request draws one key at random from the run's seeded source; the
// history op's key is the value rendered. A query runs against the database
// after setup, before the attack (see harness); its values are rendered as
// text the way checkers compare database values with the history (17.0 is
// "17"). A list, a range and a query's result hold at most MaxKeys keys. The
// zero Keys is one key, key-0.
type Keys struct {
	// Count spreads requests over key-0 … key-<Count-1> (keys: 50).
	Count int `yaml:"-" json:"-"`
	// List holds the keys given as a list, as written (keys: [7, 9, 12]).
	List []string `yaml:"-" json:"-"`
	// From and To bound an inclusive integer range (keys: {from: 1, to: 100}).
	From *int64 `yaml:"from" json:"from,omitempty"`
	To   *int64 `yaml:"to" json:"to,omitempty"`
	// Query is SQL (with the Redis driver, a command) whose rows' first
	// column gives the keys (keys: {query: "SELECT id FROM items"}).
	Query string `yaml:"query" json:"query,omitempty"`
	// Capture names a setup capture: the values a repeated setup step's N
	// requests returned (repeat: N), e.g. the ids of N resources it made,
	// or the one value of a step that ran once.
	Capture string `yaml:"capture" json:"capture,omitempty"`
}

// fromShort reads the number and list forms (see shortForm); the mapping
// forms are decoded field by field, strict and with lines.
func (k *Keys) fromShort(n *yaml.Node) error {
	const want = "want a number of keys (e.g. 50), a list of keys, {from: 1, to: 100} or {query: SELECT id FROM items}"
	switch n.Kind {
	case yaml.ScalarNode:
		c, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) || (err == nil && c != int64(int(c))):
			return fmt.Errorf("%s is out of range", n.Value)
		case err != nil || n.ShortTag() != "!!int":
			return fmt.Errorf("%s, got %s", want, describe(n))
		}
		*k = Keys{Count: int(c)}
		return nil
	case yaml.SequenceNode:
		if len(n.Content) > MaxKeys {
			return fmt.Errorf("%d keys, above the limit of %d", len(n.Content), MaxKeys)
		}
		list := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			if item.Kind == yaml.AliasNode && item.Alias != nil {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode || isNull(item) {
				return fmt.Errorf("item %d (line %d): want a key (a number or text), got %s", i, item.Line, describe(item))
			}
			list = append(list, item.Value)
		}
		*k = Keys{List: list}
		return nil
	}
	return errors.New(want)
}

// IsZero reports whether no keys are set (the default: one key).
func (k Keys) IsZero() bool {
	return k.Count == 0 && k.List == nil && k.From == nil && k.To == nil && k.Query == "" && k.Capture == ""
}

// Values lists the keys of a list or a range, in order; nil for a count or
// a query.
func (k Keys) Values() []string {
	switch {
	case k.List != nil:
		return append([]string(nil), k.List...)
	case k.From != nil && k.To != nil && *k.From <= *k.To && *k.To-*k.From >= 0 && *k.To-*k.From < MaxKeys:
		out := make([]string, 0, *k.To-*k.From+1)
		for i := *k.From; ; i++ {
			out = append(out, strconv.FormatInt(i, 10))
			if i == *k.To {
				break
			}
		}
		return out
	}
	return nil
}

// String writes the keys as in a profile: 50, [7, 9], {from: 1, to: 100}
// or {query: …}.
func (k Keys) String() string {
	switch {
	case k.List != nil:
		return "[" + strings.Join(k.List, ", ") + "]"
	case k.Query != "":
		return "{query: " + strconv.Quote(k.Query) + "}"
	case k.Capture != "":
		return "{capture: " + k.Capture + "}"
	case k.From != nil || k.To != nil:
		var parts []string
		if k.From != nil {
			parts = append(parts, "from: "+strconv.FormatInt(*k.From, 10))
		}
		if k.To != nil {
			parts = append(parts, "to: "+strconv.FormatInt(*k.To, 10))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return strconv.Itoa(max(k.Count, 1))
}

// keysJSON is the JSON and YAML of the mapping forms.
type keysJSON struct {
	From    *int64 `json:"from,omitempty" yaml:"from,omitempty"`
	To      *int64 `json:"to,omitempty" yaml:"to,omitempty"`
	Query   string `json:"query,omitempty" yaml:"query,omitempty"`
	Capture string `json:"capture,omitempty" yaml:"capture,omitempty"`
}

// MarshalYAML writes the keys in the form they were given.
func (k Keys) MarshalYAML() (any, error) {
	switch {
	case k.List != nil:
		return k.List, nil
	case k.From != nil || k.To != nil || k.Query != "" || k.Capture != "":
		return keysJSON{k.From, k.To, k.Query, k.Capture}, nil
	}
	return k.Count, nil
}

// MarshalJSON writes a count as a number, a list as a list of strings and
// the other forms as an object, as they are written in YAML.
func (k Keys) MarshalJSON() ([]byte, error) {
	switch {
	case k.List != nil:
		return json.Marshal(k.List)
	case k.From != nil || k.To != nil || k.Query != "" || k.Capture != "":
		return json.Marshal(keysJSON{k.From, k.To, k.Query, k.Capture})
	}
	return []byte(strconv.Itoa(k.Count)), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (k *Keys) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*k = Keys{}
		return nil
	case b[0] == '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		if list == nil {
			list = []string{}
		}
		*k = Keys{List: list}
		return nil
	case b[0] == '{':
		var m keysJSON
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		*k = Keys{From: m.From, To: m.To, Query: m.Query, Capture: m.Capture}
		return nil
	}
	var c int
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	*k = Keys{Count: c}
	return nil
}

// keys validates an operation's keys; path is "operations[i].keys".
func (v *validator) keys(path string, k Keys) {
	switch {
	case k.Count < 0:
		v.errf(path, "must not be negative (got %d)", k.Count)
	case k.List != nil:
		if len(k.List) == 0 {
			v.errf(path, "an empty list: want at least one key (or leave keys out for one key)")
		}
		seen := make(map[string]int, len(k.List))
		for i, key := range k.List {
			if key == "" {
				v.errf(indexPath(path, i), "a key may not be empty")
				continue
			}
			if first, dup := seen[key]; dup {
				v.errf(indexPath(path, i), "duplicate key %s (first at item %d)", quote(key), first)
				continue
			}
			seen[key] = i
		}
	case k.Capture != "" && (k.Query != "" || k.From != nil || k.To != nil):
		v.errf(path+".capture", "set one of from and to, query, or capture")
	case k.Capture != "":
		_, list := v.lists[k.Capture]
		_, one := v.vars[k.Capture]
		if !list && !one {
			v.errf(path+".capture", "no setup step captures %s (e.g. a step with repeat: N and capture: {%s: id}; setup captures: %s)", quote(k.Capture), k.Capture, orNone(append(sortedKeys(v.lists), sortedKeys(v.vars)...)))
		}
	case k.Query != "" && (k.From != nil || k.To != nil):
		v.errf(path, "set from and to, or query, not both")
	case k.Query == "" && v.p.has(path+".query"):
		v.errf(path+".query", "empty: want SQL whose first column gives the keys, e.g. SELECT id FROM items")
	case k.From != nil && k.To == nil:
		v.errf(path+".to", "required with from (keys: {from: 1, to: 100})")
	case k.To != nil && k.From == nil:
		v.errf(path+".from", "required with to (keys: {from: 1, to: 100})")
	case k.From != nil && *k.From > *k.To:
		v.errf(path+".to", "%d is below from (%d): the range is empty", *k.To, *k.From)
	case k.From != nil && (*k.To-*k.From >= MaxKeys || *k.To-*k.From < 0):
		v.errf(path, "%s to %d holds more than %d keys (the limit)", strconv.FormatInt(*k.From, 10), *k.To, MaxKeys)
	}
}
