package profiles

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// segment is one step of an override path: a field name, or (key "") a
// list index.
type segment struct {
	key   string
	index int
}

func (s segment) isIndex() bool { return s.key == "" }

// renderPath writes segments back as "a.b[1].c".
func renderPath(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.isIndex() {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// parseSetPath parses "operations[0].request.url" into segments. A field
// name is any text without '.', '[', ']' (header names may hold '-').
func parseSetPath(s string) ([]segment, bool) {
	var segs []segment
	i := 0
	for i < len(s) {
		start := i
		for i < len(s) && s[i] != '.' && s[i] != '[' && s[i] != ']' {
			i++
		}
		if i == start {
			return nil, false
		}
		segs = append(segs, segment{key: s[start:i]})
		for i < len(s) && s[i] == '[' {
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, false
			}
			num := s[i+1 : i+end]
			if num == "" || len(num) > 9 || strings.Trim(num, "0123456789") != "" {
				return nil, false
			}
			n, _ := strconv.Atoi(num)
			segs = append(segs, segment{index: n})
			i += end + 1
		}
		if i < len(s) {
			if s[i] != '.' || i+1 == len(s) {
				return nil, false
			}
			i++
		}
	}
	return segs, len(segs) > 0
}

// applyOverride applies one --set "path=value" to the tree under root,
// marking every node it adds in set.
func applyOverride(file string, root *yaml.Node, arg string, set map[*yaml.Node]bool) *Error {
	rawPath, raw, ok := strings.Cut(arg, "=")
	rawPath = strings.TrimSpace(rawPath)
	fail := func(field, format string, args ...any) *Error {
		return errorf(file, 0, true, field, format, args...)
	}
	if !ok {
		if strings.TrimSpace(arg) == "" {
			return fail("", "empty override (want path=value, e.g. operations[0].rate=50/s)")
		}
		return fail(arg, `missing "=" (want path=value, e.g. operations[0].rate=50/s)`)
	}
	segs, ok := parseSetPath(rawPath)
	if !ok {
		return fail(rawPath, "invalid path (want field names joined by dots, with [i] for list items, e.g. operations[0].rate)")
	}
	value, err := parseSetValue(raw)
	if err != nil {
		return fail(rawPath, "invalid value %s: %s", quote(raw), strings.TrimPrefix(err.Error(), "yaml: "))
	}
	mark(value, set)

	cur := root
	for i, seg := range segs {
		here := renderPath(segs[:i+1])
		parent := renderPath(segs[:i])
		if parent == "" {
			parent = "the profile"
		}
		last := i == len(segs)-1
		var slot **yaml.Node
		if !seg.isIndex() {
			if isNull(cur) {
				*cur = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: cur.Line, Column: cur.Column}
				set[cur] = true
			}
			if cur.Kind == yaml.SequenceNode {
				return fail(here, "%s is a list: pick an item, e.g. %s[0].%s", parent, renderPath(segs[:i]), seg.key)
			}
			if cur.Kind != yaml.MappingNode {
				return fail(here, "%s is %s, not a mapping of fields", parent, describe(cur))
			}
			j := findKey(cur, seg.key)
			if j < 0 {
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg.key}
				var v *yaml.Node
				if m := findMerged(cur, seg.key, 0); m != nil && !last {
					v = deepCopy(m) // keep what the merge gave, change one field
				} else {
					v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
					set[v] = true
				}
				set[k] = true
				cur.Content = append(cur.Content, k, v)
				j = len(cur.Content) - 2
			}
			slot = &cur.Content[j+1]
		} else {
			n := 0
			if cur.Kind == yaml.SequenceNode {
				n = len(cur.Content)
			} else if !isNull(cur) {
				return fail(here, "%s is %s, not a list", parent, describe(cur))
			}
			if seg.index >= n {
				return fail(here, "index out of range (%s has %d %s)", parent, n, plural(n, "item", "items"))
			}
			slot = &cur.Content[seg.index]
		}
		if last {
			*slot = value
			return nil
		}
		if (*slot).Kind == yaml.AliasNode {
			// Copy before writing, so that other users of the anchor keep
			// their value.
			*slot = deepCopy(*slot)
		}
		if long, ok := shortForms[seg.key]; ok && (*slot).Kind == yaml.ScalarNode && !isNull(*slot) {
			// burst: 8 is burst: {copies: 8}; setting burst.sync needs the
			// long form.
			k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: long, Line: (*slot).Line, Column: (*slot).Column}
			*slot = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: (*slot).Line, Column: (*slot).Column, Content: []*yaml.Node{k, *slot}}
			set[k] = set[(*slot).Content[1]]
		}
		cur = *slot
	}
	return nil
}

// shortForms are the fields whose value may be one scalar standing for a
// mapping with one field: burst: 8 is burst: {copies: 8}.
var shortForms = map[string]string{"burst": "copies"}

// parseSetValue parses an override's value as YAML; an empty value is null.
func parseSetValue(s string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := safely(func() error { return yaml.Unmarshal([]byte(s), &doc) }); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}, nil
	}
	return doc.Content[0], nil
}

// findKey returns the index of key's key node in mapping m (the last, if
// repeated: the walker reports duplicates), or -1.
func findKey(m *yaml.Node, key string) int {
	at := -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key && k.ShortTag() != "!!merge" {
			at = i
		}
	}
	return at
}

// findMerged returns the value that key gets through mapping m's merge
// keys (<<), or nil.
func findMerged(m *yaml.Node, key string, depth int) *yaml.Node {
	if depth > 32 {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].ShortTag() != "!!merge" {
			continue
		}
		srcs := []*yaml.Node{m.Content[i+1]}
		if s := resolveAlias(srcs[0]); s != nil && s.Kind == yaml.SequenceNode {
			srcs = s.Content
		}
		for _, s := range srcs {
			s = resolveAlias(s)
			if s == nil || s.Kind != yaml.MappingNode {
				continue
			}
			if j := findKey(s, key); j >= 0 {
				return s.Content[j+1]
			}
			if v := findMerged(s, key, depth+1); v != nil {
				return v
			}
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// deepCopy copies the tree under n (through an alias at the top); aliases
// further down stay aliases.
func deepCopy(n *yaml.Node) *yaml.Node {
	n = resolveAlias(n)
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	c := *n
	c.Anchor = ""
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			if ch.Kind == yaml.AliasNode {
				cc := *ch
				c.Content[i] = &cc
				continue
			}
			c.Content[i] = deepCopy(ch)
		}
	}
	return &c
}

// mark records every node of a tree (not following aliases) as from --set.
func mark(n *yaml.Node, set map[*yaml.Node]bool) {
	set[n] = true
	for _, c := range n.Content {
		mark(c, set)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
