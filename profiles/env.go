package profiles

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandEnv expands ${NAME} and ${NAME:-default} in every scalar value of
// the tree (never in keys); $$ is a literal $. A plain (unquoted) scalar
// whose text changed is re-typed from its new text, so "workers:
// ${WORKERS:-16}" is an integer; a quoted one stays text. Aliases are not
// followed: the anchored node is expanded where it is defined, once.
func expandEnv(file string, n *yaml.Node, path string, set map[*yaml.Node]bool, lookup func(string) (string, bool)) *Error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := path
			if k.ShortTag() != "!!merge" {
				p = joinPath(path, k.Value)
			}
			if err := expandEnv(file, v, p, set, lookup); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if err := expandEnv(file, item, indexPath(path, i), set, lookup); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return nil
		}
		s, err := expand(n.Value, lookup)
		if err != nil {
			return errorf(file, n.Line, set[n], path, "%v", err)
		}
		if s != n.Value {
			n.Value = s
			if n.Style&yaml.TaggedStyle == 0 {
				n.Tag = "" // resolve again from the new text
			}
		}
	}
	return nil
}

// expand expands environment references in s.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '$':
			b.WriteByte(c)
			i++
		case i+1 < len(s) && s[i+1] == '$':
			b.WriteByte('$')
			i += 2
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %s (write $$ for a literal $)", quote(s))
			}
			ref := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validEnvName(name) {
				return "", fmt.Errorf("invalid reference ${%s} (want ${NAME} or ${NAME:-default}; $$ for a literal $)", ref)
			}
			val, ok := lookup(name)
			switch {
			case hasDef && (!ok || val == ""):
				val = def
			case !ok:
				return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
			}
			b.WriteString(val)
			i += 2 + end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// validEnvName reports whether s is a shell variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
