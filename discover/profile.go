package discover

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/profiles"
)

// FromProfile returns the requests of a loaded profile: one per HTTP setup
// step (Setup, with the step's Capture), then one per operation, in the
// profile's order. A flow operation gives one request per step: the steps
// before the last are Setup (they fetch what the last one sends, with
// their Capture), the last is the operation's request. An operation that
// only releases others in a mixed burst (burst.of, no request of its own)
// gives none: its members do.
//
// Templates are rendered as for one request: {{seq}}, {{burst}} and
// {{copy}} are 0, {{uuid}} a UUID derived from the profile, operation and
// field (the same for the same profile), {{env "NAME"}} the variable's
// value, and {{key}} the operation's first key (key-0 for a count, the
// first of a list, the start of a range). A variable that setup or an
// earlier flow step captures stays {{name}}, and so does a {{key}} drawn
// from a setup capture (keys: {capture: resource} gives {{resource}}):
// Request.Render substitutes the values when the captures are taken. SQL
// setup steps and teardown are not requests and are left out. A key query
// cannot run without the database, so an operation that draws {{key}}
// from one is an error, as is a template that does not compile.
//
// IDs are "profile:<operation>", "profile:<operation>.<step>" and
// "profile:setup[i]"; Endpoint is the method and the URL's path with each
// segment holding a placeholder, a number or a UUID templated as {id}.
func FromProfile(p *profiles.Profile) ([]Request, error) {
	if p == nil {
		return nil, errors.New("discover: no profile")
	}
	src := p.Name
	if f := p.File(); f != "" {
		src = f
	}
	var out []Request
	vars := map[string]bool{} // captured so far, rendered back as {{name}}
	for i, st := range p.Setup {
		if st.Request == nil {
			continue
		}
		label := st.Label("setup", i)
		r, err := profileRequest(p, *st.Request, label, vars, "key-0", "")
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", src, label, err)
		}
		r.ID = fmt.Sprintf("profile:setup[%d]", i)
		r.Source = src + ": " + label
		r.Setup = true
		r.Capture = maps.Clone(st.Capture)
		out = append(out, r)
		for n := range st.Capture {
			vars[n] = true
		}
	}
	for i, op := range p.Operations {
		label := fmt.Sprintf("operations[%d] %q", i, op.Name)
		key, err := firstKey(op.Keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: keys: %w", src, label, err)
		}
		steps := op.Flow
		if len(steps) == 0 && op.Request.URL == "" && op.Burst != nil && len(op.Burst.Of) > 0 {
			continue // a mixed burst: its members are operations of their own
		}
		if len(steps) == 0 {
			steps = []profiles.Step{{Name: op.Name, Request: op.Request, Capture: op.Capture}}
		}
		flowVars := maps.Clone(vars)
		for j, st := range steps {
			last := j == len(steps)-1
			field := fmt.Sprintf("flow[%d]", j)
			if len(op.Flow) == 0 {
				field = "request"
			}
			r, err := profileRequest(p, st.Request, op.Name+"."+field, flowVars, key, op.Keys.Capture)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %s: %w", src, label, field, err)
			}
			r.ID = "profile:" + op.Name
			r.Source = src + ": " + label
			if len(op.Flow) > 0 {
				r.Source += " " + field
				if !last {
					r.ID += "." + st.Name
					r.Setup = true
				}
			}
			if !last {
				r.Capture = maps.Clone(st.Capture)
			}
			out = append(out, r)
			for n := range st.Capture {
				flowVars[n] = true
			}
		}
	}
	return out, nil
}

// firstKey is what {{key}} renders as for one request: key-0 for a count
// (or no keys), the first of a list, the start of a range, {{name}} for a
// setup capture.
func firstKey(k profiles.Keys) (string, error) {
	switch {
	case k.Capture != "":
		return "{{" + k.Capture + "}}", nil
	case k.Query != "":
		return "", fmt.Errorf("they come from the query %q, which discovery does not run: give a list or a range", k.Query)
	}
	if v := k.Values(); len(v) > 0 {
		return v[0], nil
	}
	return "key-0", nil
}

// profileRequest renders one request template of p for one request;
// field seeds its {{uuid}}.
func profileRequest(p *profiles.Profile, rq profiles.Request, field string, vars map[string]bool, key, keyCapture string) (Request, error) {
	names := maps.Clone(vars)
	run := map[string]string{}
	for n := range names {
		run[n] = "{{" + n + "}}"
	}
	if keyCapture != "" {
		names[keyCapture] = true
		run[keyCapture] = "{{" + keyCapture + "}}"
	}
	v := &attacks.Vars{
		Key:  key,
		UUID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("collide:"+p.Name+":"+field)).String(),
		Run:  run,
	}
	render := func(what, s string) (string, error) {
		t, err := attacks.CompileVars(s, names)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return t.Render(v), nil
	}
	method := strings.ToUpper(strings.TrimSpace(rq.Method))
	if method == "" {
		method = http.MethodGet
	}
	u, err := render("url", rq.URL)
	if err != nil {
		return Request{}, err
	}
	r := Request{Method: method, URL: u, Endpoint: method + " " + templateProfilePath(rq.URL)}
	if rq.Body != "" {
		b, err := render("body", rq.Body)
		if err != nil {
			return Request{}, err
		}
		r.Body = []byte(b)
	}
	if len(rq.Headers) > 0 || r.Body != nil {
		r.Header = http.Header{}
		for _, n := range slices.Sorted(maps.Keys(rq.Headers)) {
			val, err := render("headers."+n, rq.Headers[n])
			if err != nil {
				return Request{}, err
			}
			r.Header.Set(n, val)
		}
		if r.Body != nil && r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json") // as the harness sends it
		}
	}
	return r, nil
}

// placeholder matches one {{…}} of a template.
var placeholder = regexp.MustCompile(`\{\{[^}]*\}\}`)

// templateProfilePath is the path of a URL template, without scheme,
// host and query, with every segment that holds a placeholder, a number or
// a UUID written {id} (/locks/crash-{{key}}/run is /locks/{id}/run).
func templateProfilePath(tmpl string) string {
	s := tmpl
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		} else {
			s = "/"
		}
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		if placeholder.MatchString(seg) {
			segs[i] = "0"
		}
	}
	return templatePath(strings.Join(segs, "/"))
}
