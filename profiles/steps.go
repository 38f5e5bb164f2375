package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/collide-dev/collide/database"
)

// SetupStep is one step of setup or teardown: a SQL statement, or an HTTP
// request to the target whose JSON response may be captured into variables.
// In YAML a plain string is a SQL step ("DELETE FROM orders"); a mapping
// sets name and exactly one of sql and request.
type SetupStep struct {
	// Name identifies the step in messages (optional).
	Name string `yaml:"name" json:"name,omitempty"`
	// SQL is one statement run against the database. It may use variables
	// of earlier steps as {{name}}: they are bind parameters, never spliced
	// into the text.
	SQL string `yaml:"sql" json:"sql,omitempty"`
	// Request is sent to the target's base URL (the one the attack uses).
	// Its URL, header values and body may use {{uuid}}, {{env "NAME"}} and
	// variables of earlier steps.
	Request *Request `yaml:"request" json:"request,omitempty"`
	// Capture takes variables from the JSON response: name → dotted path,
	// with array indexes (data.token, items.0.id). A missing path fails the
	// step.
	Capture map[string]string `yaml:"capture" json:"capture,omitempty"`
	// Outcome says which statuses are ok (default 2xx); any other status
	// fails the step, and the run.
	Outcome OutcomeRules `yaml:"outcome" json:"outcome,omitzero"`
	// Secret lists captures whose values must never be written to results,
	// history or logs. Values used in Authorization, Cookie, Set-Cookie and
	// Proxy-Authorization headers are secret without being listed.
	Secret []string `yaml:"secret" json:"secret,omitempty"`
	// Timeout bounds the request (default 10s).
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Repeat sends a request step this many times ({{seq}} renders 0 …
	// Repeat−1), e.g. to create one resource per key. Its captures are then
	// lists, not variables: an operation draws its keys from one with
	// keys: {capture: name}. 0 means once.
	Repeat int `yaml:"repeat" json:"repeat,omitempty"`
}

// ListVars lists the captures of repeated setup steps (repeat > 1): lists
// of values an operation draws keys from (keys: {capture: name}).
func (p *Profile) ListVars() []string {
	var out []string
	for _, st := range p.Setup {
		if st.Repeat > 1 {
			out = append(out, sortedKeys(st.Capture)...)
		}
	}
	return out
}

// fromShort makes a plain string in the profile a SQL step (the format of
// setup before steps could be requests); see shortForm.
func (s *SetupStep) fromShort(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want SQL text or a mapping of fields")
	}
	*s = SetupStep{SQL: n.Value}
	return nil
}

// plainSQL reports whether the step is only a SQL statement, written as a
// plain string.
func (s SetupStep) plainSQL() bool {
	return s.Name == "" && s.Request == nil && len(s.Capture) == 0 && len(s.Outcome.OK) == 0 &&
		len(s.Outcome.Fail) == 0 && len(s.Secret) == 0 && s.Timeout == 0 && s.Repeat == 0
}

// Label names the step in messages: setup[1] "login", or setup[0].
func (s SetupStep) Label(list string, i int) string {
	l := fmt.Sprintf("%s[%d]", list, i)
	if s.Name != "" {
		l += " " + quote(s.Name)
	}
	return l
}

// setupStepJSON is SetupStep without its methods, for encoding.
type setupStepJSON SetupStep

// MarshalJSON writes a plain SQL step as a string, as it was written.
func (s SetupStep) MarshalJSON() ([]byte, error) {
	if s.plainSQL() {
		return json.Marshal(s.SQL)
	}
	return json.Marshal(setupStepJSON(s))
}

// UnmarshalJSON reads either form.
func (s *SetupStep) UnmarshalJSON(b []byte) error {
	var sql string
	if err := json.Unmarshal(b, &sql); err == nil {
		*s = SetupStep{SQL: sql}
		return nil
	}
	return json.Unmarshal(b, (*setupStepJSON)(s))
}

// builtinVars are the template values every request has; a variable may not
// take their names.
var builtinVars = map[string]bool{"seq": true, "uuid": true, "key": true, "env": true}

// Vars lists the variables setup steps capture, in the order they are
// defined.
func (p *Profile) Vars() []string {
	var out []string
	for _, st := range p.Setup {
		if st.Repeat <= 1 {
			out = append(out, sortedKeys(st.Capture)...)
		}
	}
	return out
}

// SecretVars lists the variables whose values are secret: those listed in a
// step's secret, those named like a secret (SecretName), and those used in the value of a secret header
// (Authorization, Cookie, …) of any setup, teardown or operation request.
func (p *Profile) SecretVars() []string {
	set := map[string]bool{}
	defined := map[string]bool{}
	for _, st := range append(append([]SetupStep(nil), p.Setup...), p.Teardown...) {
		for _, s := range st.Secret {
			set[s] = true
		}
		for n := range st.Capture {
			defined[n] = true
			if SecretName(n) {
				set[n] = true // a capture named like a secret (token, session …)
			}
		}
	}
	var reqs []Request
	for _, st := range append(append([]SetupStep(nil), p.Setup...), p.Teardown...) {
		if st.Request != nil {
			reqs = append(reqs, *st.Request)
		}
	}
	for _, o := range p.Operations {
		reqs = append(reqs, o.Request)
		for _, fs := range o.Flow {
			reqs = append(reqs, fs.Request)
		}
	}
	for _, r := range reqs {
		for h, v := range r.Headers {
			if !SecretName(h) {
				continue
			}
			for _, n := range VarRefs(v) {
				if defined[n] {
					set[n] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

// VarRefs lists the names of the {{name}} placeholders in s, in order of
// appearance and without repeats. Only identifiers (letters, digits and _)
// count: {{env "X"}} and text such as PostgreSQL's '{{1,2}}' array literals
// are not variable references.
func VarRefs(s string) []string {
	var out []string
	seen := map[string]bool{}
	for rest := s; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return out
		}
		name := strings.TrimSpace(rest[i+2 : i+2+j])
		if isIdent(name) && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		rest = rest[i+2+j+2:]
	}
}

func isIdent(s string) bool {
	return matches(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") && (s[0] < '0' || s[0] > '9')
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// steps validates setup or teardown steps. vars holds the variables defined
// so far (name → field that defines it); steps adds the captures of its
// own.
func (v *validator) steps(list string, steps []SetupStep, vars map[string]string) {
	names := map[string]string{}
	for i, st := range steps {
		path := indexPath(list, i)
		if st.Name != "" {
			switch {
			case !matches(st.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"):
				v.errf(path+".name", "invalid name %s (want letters, digits, _ and -)", quote(st.Name))
			case names[st.Name] != "":
				v.errf(path+".name", "duplicate step name %s (%s)", quote(st.Name), v.where(names[st.Name]))
			default:
				names[st.Name] = path + ".name"
			}
		}
		switch {
		case st.SQL != "" && st.Request != nil:
			v.errf(path, "set sql or request, not both")
		case st.SQL == "" && st.Request == nil:
			v.errf(path, "empty step: want SQL text, or a mapping with sql or request")
		case st.SQL != "":
			v.refs(path+".sql", st.SQL, vars, list)
			for _, f := range []struct {
				name string
				set  bool
			}{{"capture", len(st.Capture) > 0}, {"outcome", len(st.Outcome.OK)+len(st.Outcome.Fail) > 0}, {"secret", len(st.Secret) > 0}, {"timeout", st.Timeout != 0}, {"repeat", st.Repeat != 0}} {
				if f.set {
					v.errf(path+"."+f.name, "only a request step has %s", f.name)
				}
			}
		default:
			rp := path + ".request"
			v.request(rp, *st.Request)
			if u := st.Request.URL; strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
				v.errf(rp+".url", "%s must be a path starting with / (requests go to the target's base URL)", quote(u))
			}
			v.refs(rp+".url", st.Request.URL, vars, list)
			v.refs(rp+".body", st.Request.Body, vars, list)
			for _, h := range sortedKeys(st.Request.Headers) {
				v.refs(rp+".headers."+h, st.Request.Headers[h], vars, list)
			}
			okSet := v.statuses(path+".outcome.ok", st.Outcome.OK)
			failSet := v.statuses(path+".outcome.fail", st.Outcome.Fail)
			if !okSet.Empty() && !failSet.Empty() {
				if c := okSet.overlap(failSet); c != 0 {
					v.errf(path+".outcome.fail", "status %d is also in ok", c)
				}
			}
			if st.Timeout < 0 {
				v.errf(path+".timeout", "must not be negative")
			}
			switch {
			case st.Repeat < 0 || st.Repeat > MaxKeys:
				v.errf(path+".repeat", "must be between 0 and %d (got %d)", MaxKeys, st.Repeat)
			case st.Repeat > 1 && list != "setup":
				v.errf(path+".repeat", "only a setup step repeats (its captures are the keys of an operation)")
			}
			v.captures(path+".capture", st.Capture)
			for _, n := range sortedKeys(st.Capture) {
				if first, dup := vars[n]; dup {
					v.errf(path+".capture."+n, "variable %s is already defined (%s)", quote(n), v.where(first))
				}
			}
			for j, s := range st.Secret {
				if _, ok := st.Capture[s]; !ok {
					v.errf(indexPath(path+".secret", j), "%s is not a capture of this step (captures: %s)", quote(s), orNone(sortedKeys(st.Capture)))
				}
			}
		}
		for _, n := range sortedKeys(st.Capture) {
			if st.Repeat > 1 {
				if _, dup := v.lists[n]; !dup {
					v.lists[n] = path + ".capture." + n
				}
				continue // a list: keys: {capture: name}, not {{name}}
			}
			if _, dup := vars[n]; !dup {
				vars[n] = path + ".capture." + n
			}
		}
	}
}

// refs checks that every {{name}} in s is a built-in or a variable defined
// by an earlier step.
func (v *validator) refs(path, s string, vars map[string]string, list string) {
	refs := VarRefs(s)
	if sql := strings.HasSuffix(path, ".sql") || strings.HasPrefix(path, "invariants"); sql && sqlDriver(v.p.Database.Driver) {
		// In SQL, {{…}} inside a quoted string is text, unless it names a
		// variable (which the run reports: a variable is a whole value).
		refs = VarRefs(unquotedSQL(s))
	}
	for _, n := range refs {
		if _, ok := vars[n]; ok || (builtinVars[n] && !strings.HasSuffix(path, ".sql") && !strings.HasPrefix(path, "invariants")) {
			continue
		}
		where := "by an earlier setup step"
		switch list {
		case "teardown":
			where = "by setup or an earlier teardown step"
		case "invariants":
			where = "by a setup step"
		}
		if _, list := v.lists[n]; list {
			v.errf(path, "{{%s}} is a list, captured by a repeated setup step: draw from it with keys: {capture: %s} and use {{key}}", n, n)
			continue
		}
		v.errf(path, "undefined variable {{%s}}: no capture of that name %s (defined: %s)", n, where, orNone(sortedKeys(vars)))
	}
}

// varNames checks the variable uses outside setup and teardown: invariant
// queries may use setup variables; operation captures may not shadow them.
func (v *validator) varNames(vars map[string]string) {
	for i, inv := range v.p.Invariants {
		path := indexPath("invariants", i)
		v.refs(path+".query", inv.Query, vars, "invariants")
		for _, name := range inv.Fields.Names() {
			// a checker's own query (unique: …) may use setup variables too
			if text := inv.Fields.Text(name); strings.Contains(text, "{{") {
				v.refs(path+"."+name, text, vars, "invariants")
			}
		}
	}
	for i, o := range v.p.Operations {
		path := indexPath("operations", i)
		check := func(cp string, c map[string]string) {
			for _, n := range sortedKeys(c) {
				if first, dup := vars[n]; dup {
					v.errf(cp+"."+n, "capture %s would hide the setup variable of that name (%s); pick another name", quote(n), v.where(first))
				}
			}
		}
		check(path+".capture", o.Capture)
		for j, fs := range o.Flow {
			check(indexPath(path+".flow", j)+".capture", fs.Capture)
		}
		lists := func(rp string, r Request) {
			fields := []struct{ name, text string }{{"url", r.URL}, {"body", r.Body}}
			for _, h := range sortedKeys(r.Headers) {
				fields = append(fields, struct{ name, text string }{"headers." + h, r.Headers[h]})
			}
			for _, f := range fields {
				for _, n := range VarRefs(f.text) {
					if _, list := v.lists[n]; list {
						v.errf(rp+"."+f.name, "{{%s}} is a list, captured by a repeated setup step: draw from it with keys: {capture: %s} and use {{key}}", n, n)
					}
				}
			}
		}
		lists(path+".request", o.Request)
		for j, fs := range o.Flow {
			lists(indexPath(path+".flow", j)+".request", fs.Request)
		}
	}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// unquotedSQL is s with its single-quoted strings removed.
func unquotedSQL(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			in = !in
			b.WriteByte(' ')
			continue
		}
		if !in {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// sqlDriver reports whether the named driver's statements are SQL (in
// which '…' quotes text); an unknown driver counts as SQL.
func sqlDriver(name string) bool {
	d, err := database.Lookup(name)
	return err != nil || d.Features().Syntax.SQL
}
