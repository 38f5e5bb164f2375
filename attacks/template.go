package attacks

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/collide-dev/collide/profiles"
)

// Vars are the per-request values a template can use.
type Vars struct {
	// Seq is the op's sequence number within its operation, from 0.
	Seq uint64
	// UUID is a fresh UUID from the run's seeded random source.
	UUID string
	// Key is the key chosen for this request ("key-0" … "key-<K-1>").
	Key string
	// Burst is the index of the burst the request belongs to, from 0 (the
	// same for every copy of one burst); Copy is the copy's index within
	// its burst, from 0.
	Burst uint64
	Copy  int
	// Captured holds values captured from earlier responses of a flow,
	// already formatted as text.
	Captured map[string]string
	// Run holds the run-wide variables (captured by setup steps); a
	// {{name}} not in Captured is looked up here. They are not per-op
	// values: the history does not record them.
	Run map[string]string
}

type segKind uint8

const (
	segText segKind = iota
	segSeq
	segUUID
	segKey
	segVar
	segBurst
	segCopy
	numSegKinds
)

type segment struct {
	kind segKind
	text string
}

// Template is a compiled request string: literal text and {{seq}}, {{uuid}},
// {{key}}, {{burst}}, {{copy}} placeholders. {{env "NAME"}} is resolved once, at compile time.
// Rendering allocates only the result string.
type Template struct {
	segs    []segment
	uses    [numSegKinds]bool
	literal bool
}

// Compile parses s. An unknown placeholder or an unclosed {{ is an error.
func Compile(s string) (*Template, error) { return CompileVars(s, nil) }

// CompileVars parses s, also accepting {{name}} for each name in vars (the
// captures of earlier flow steps, and the run-wide variables of setup).
func CompileVars(s string, vars map[string]bool) (*Template, error) {
	t := &Template{}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.segs = append(t.segs, segment{kind: segText, text: rest})
			}
			break
		}
		if i > 0 {
			t.segs = append(t.segs, segment{kind: segText, text: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q", s)
		}
		expr := strings.TrimSpace(rest[i+2 : i+j])
		rest = rest[i+j+2:]
		switch {
		case expr == "seq":
			t.segs = append(t.segs, segment{kind: segSeq})
			t.uses[segSeq] = true
		case expr == "uuid":
			t.segs = append(t.segs, segment{kind: segUUID})
			t.uses[segUUID] = true
		case expr == "key":
			t.segs = append(t.segs, segment{kind: segKey})
			t.uses[segKey] = true
		case expr == "burst":
			t.segs = append(t.segs, segment{kind: segBurst})
			t.uses[segBurst] = true
		case expr == "copy":
			t.segs = append(t.segs, segment{kind: segCopy})
			t.uses[segCopy] = true
		case vars[expr]:
			t.segs = append(t.segs, segment{kind: segVar, text: expr})
			t.uses[segVar] = true
		case strings.HasPrefix(expr, "env "):
			name, err := strconv.Unquote(strings.TrimSpace(strings.TrimPrefix(expr, "env ")))
			if err != nil {
				return nil, fmt.Errorf("{{%s}}: want {{env \"NAME\"}}", expr)
			}
			v, ok := os.LookupEnv(name)
			if !ok {
				return nil, fmt.Errorf("{{env %q}}: environment variable %s is not set", name, name)
			}
			t.segs = append(t.segs, segment{kind: segText, text: v})
		default:
			known := "seq, uuid, key, burst, copy, env \"NAME\""
			names := make([]string, 0, len(vars))
			for v := range vars {
				names = append(names, v)
			}
			sort.Strings(names)
			for _, v := range names {
				known += ", " + v
			}
			hint := ""
			if best, ok := profiles.Nearest(expr, append([]string{"seq", "uuid", "key", "burst", "copy"}, names...)); ok {
				hint = "did you mean {{" + best + "}}? "
			}
			return nil, fmt.Errorf("unknown placeholder {{%s}} (%sknown: %s)", expr, hint, known)
		}
	}
	t.literal = len(t.segs) == 0 || (len(t.segs) == 1 && t.segs[0].kind == segText)
	return t, nil
}

// UsesUUID reports whether rendering needs a UUID, so callers draw one only
// when it is used.
func (t *Template) UsesUUID() bool { return t.uses[segUUID] }

// Render returns the template with v substituted.
func (t *Template) Render(v *Vars) string {
	if t.literal {
		if len(t.segs) == 0 {
			return ""
		}
		return t.segs[0].text
	}
	var b strings.Builder
	for _, s := range t.segs {
		switch s.kind {
		case segText:
			b.WriteString(s.text)
		case segSeq:
			var buf [20]byte
			b.Write(strconv.AppendUint(buf[:0], v.Seq, 10))
		case segUUID:
			b.WriteString(v.UUID)
		case segKey:
			b.WriteString(v.Key)
		case segBurst:
			var buf [20]byte
			b.Write(strconv.AppendUint(buf[:0], v.Burst, 10))
		case segCopy:
			var buf [20]byte
			b.Write(strconv.AppendInt(buf[:0], int64(v.Copy), 10))
		case segVar:
			if c, ok := v.Captured[s.text]; ok {
				b.WriteString(c)
			} else {
				b.WriteString(v.Run[s.text])
			}
		}
	}
	return b.String()
}

// empty reports whether the template renders nothing.
func (t *Template) empty() bool { return len(t.segs) == 0 }
