package harness

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// stepPlan is one setup or teardown step, compiled.
type stepPlan struct {
	label string // setup[1] "login"
	step  profiles.SetupStep
	// sql is set for a SQL step.
	sql string
	// The request of an HTTP step.
	method  string
	path    string // the URL template's text, for messages
	url     *attacks.Template
	body    *attacks.Template
	headers []attacks.HeaderTemplate
	ok      profiles.StatusSet
	timeout time.Duration
	// needs are the variables the step uses.
	needs []string
}

// compileSteps compiles setup or teardown steps; vars holds the variables
// defined before the first step and gets the steps' captures.
func compileSteps(p *profiles.Profile, list string, steps []profiles.SetupStep, vars map[string]bool) ([]*stepPlan, error) {
	var out []*stepPlan
	for i, st := range steps {
		field := fmt.Sprintf("%s[%d]", list, i)
		sp := &stepPlan{label: st.Label(list, i), step: st}
		if st.Request == nil {
			sp.sql = st.SQL
			sp.needs = profiles.VarRefs(st.SQL)
			if err := checkBind(p, st.SQL, vars); err != nil {
				return nil, &ProfileError{p.Errorf(field+".sql", "%v", err)}
			}
		} else {
			rq := *st.Request
			sp.method = strings.ToUpper(rq.Method)
			sp.path = rq.URL
			var err error
			if sp.url, err = attacks.CompileVars(rq.URL, vars); err != nil {
				return nil, &ProfileError{p.Errorf(field+".request.url", "%v", err)}
			}
			if sp.body, err = attacks.CompileVars(rq.Body, vars); err != nil {
				return nil, &ProfileError{p.Errorf(field+".request.body", "%v", err)}
			}
			for _, h := range sortedNames(rq.Headers) {
				t, err := attacks.CompileVars(rq.Headers[h], vars)
				if err != nil {
					return nil, &ProfileError{p.Errorf(field+".request.headers."+h, "%v", err)}
				}
				sp.headers = append(sp.headers, attacks.HeaderTemplate{Name: http.CanonicalHeaderKey(h), Value: t})
				sp.needs = append(sp.needs, profiles.VarRefs(rq.Headers[h])...)
			}
			sp.needs = append(sp.needs, profiles.VarRefs(rq.URL)...)
			sp.needs = append(sp.needs, profiles.VarRefs(rq.Body)...)
			okSpecs := st.Outcome.OK
			if len(okSpecs) == 0 {
				okSpecs = []string{"2xx"}
			}
			if sp.ok, err = profiles.ParseStatusSet(okSpecs); err != nil {
				return nil, &ProfileError{p.Errorf(field+".outcome.ok", "%v", err)}
			}
			sp.timeout = st.Timeout.D()
			if sp.timeout <= 0 {
				sp.timeout = 10 * time.Second
			}
		}
		if st.Repeat <= 1 {
			for n := range st.Capture {
				vars[n] = true
			}
		}
		out = append(out, sp)
	}
	return out, nil
}

// checkBind reports a {{name}} of a SQL statement that cannot be a bind
// parameter (one inside a quoted string).
func checkBind(p *profiles.Profile, sql string, vars map[string]bool) error {
	if !strings.Contains(sql, "{{") {
		return nil
	}
	dummy := make(map[string]string, len(vars))
	for n := range vars {
		dummy[n] = ""
	}
	_, _, err := invariants.Bind(invariants.SyntaxOf(p.Database.Driver), sql, dummy)
	return err
}

// runSteps runs steps in order. Setup stops at the first step that fails;
// teardown runs every step it can, skipping those whose variables setup
// never captured, and reports every failure.
func (r *run) runSteps(ctx context.Context, steps []*stepPlan, teardown bool) error {
	var errs []error
	for _, sp := range steps {
		if teardown {
			var missing []string
			for _, n := range sp.needs {
				if _, ok := r.vars[n]; !ok && r.isVar[n] {
					missing = append(missing, "{{"+n+"}}")
				}
			}
			if len(missing) > 0 {
				r.logf("%s skipped: %s not captured (setup did not get that far)", sp.label, strings.Join(missing, ", "))
				continue
			}
		}
		err := r.runStep(ctx, sp)
		if err == nil {
			continue
		}
		err = r.scrubErr(err)
		if !teardown {
			return err
		}
		r.logf("teardown: %v", err)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// runStep runs one step; its captures join r.vars, or, for a repeated
// step, r.lists.
func (r *run) runStep(ctx context.Context, sp *stepPlan) error {
	if sp.request() {
		for i := range max(sp.step.Repeat, 1) {
			if err := r.sendStep(ctx, sp, uint64(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := r.bound.Exec(ctx, sp.sql); err != nil {
		return fmt.Errorf("%s: %w", sp.label, err)
	}
	return nil
}

func (sp *stepPlan) request() bool { return sp.url != nil }

// sendStep sends a request step to the target and captures its variables.
func (r *run) sendStep(ctx context.Context, sp *stepPlan, seq uint64) error {
	vars := &attacks.Vars{Run: r.vars, Key: "key-0", Seq: seq}
	if sp.url.UsesUUID() || sp.body.UsesUUID() || usesUUID(sp.headers) {
		u, err := uuid.NewRandomFromReader(randReader{r})
		if err != nil {
			return fmt.Errorf("%s: uuid: %w", sp.label, err)
		}
		vars.UUID = u.String()
	}
	path := sp.url.Render(vars)
	what := fmt.Sprintf("%s: %s %s", sp.label, sp.method, sp.path)
	if sp.step.Repeat > 1 {
		what = fmt.Sprintf("%s (repeat %d of %d): %s %s", sp.label, seq+1, sp.step.Repeat, sp.method, sp.path)
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("%s: the URL renders as %q, not a path starting with /", what, path)
	}
	var body io.Reader
	if text := sp.body.Render(vars); text != "" {
		body = strings.NewReader(text)
	}
	ctx, cancel := context.WithTimeout(ctx, sp.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, sp.method, r.baseURL+path, body)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	for _, h := range sp.headers {
		v := h.Value.Render(vars)
		if profiles.SecretName(h.Name) {
			r.secrets.add(v)
		}
		req.Header.Set(h.Name, v)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop net/http's quoting of the full URL
		}
		return fmt.Errorf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the response: %v", what, err)
	}
	if !sp.ok.Has(resp.StatusCode) {
		return fmt.Errorf("%s: status %d%s", what, resp.StatusCode, snippet(data))
	}
	if len(sp.step.Capture) == 0 {
		return nil
	}
	vals, missing, err := attacks.CaptureText(data, sp.step.Capture)
	if err != nil {
		return fmt.Errorf("%s: capture: %v", what, err)
	}
	if len(missing) > 0 {
		var paths []string
		for _, n := range missing {
			paths = append(paths, fmt.Sprintf("%s (path %s)", n, sp.step.Capture[n]))
		}
		return fmt.Errorf("%s: capture %s: path not in the response%s", what, strings.Join(paths, ", "), snippet(data))
	}
	for n, v := range vals {
		if r.secretVar[n] {
			r.secrets.add(v)
		}
	}
	for n, v := range vals {
		if sp.step.Repeat > 1 {
			r.lists[n] = append(r.lists[n], v)
		} else {
			r.vars[n] = v
		}
	}
	return nil
}

// snippet quotes the start of a response body for a message.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	const max = 200
	s := string(b)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}

func usesUUID(hs []attacks.HeaderTemplate) bool {
	for _, h := range hs {
		if h.Value.UsesUUID() {
			return true
		}
	}
	return false
}

// randReader reads bytes from the run's seeded random source.
type randReader struct{ r *run }

func (rr randReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rr.r.rng.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// teardownTimeout bounds the whole teardown.
const teardownTimeout = 2 * time.Minute

// teardown runs the teardown steps once setup has begun, whatever became of
// the run: after the check, after a failure, after an interrupt (with a
// context of its own, since the run's may be cancelled). It runs before the
// stack is stopped.
func (r *run) teardown(ctx context.Context) (err error) {
	if !r.setupBegan || len(r.pl.teardown) == 0 {
		return nil
	}
	defer func() {
		if pv := recover(); pv != nil {
			err = fmt.Errorf("panic: %v", pv)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	r.logf("teardown: %d step(s)", len(r.pl.teardown))
	return r.runSteps(ctx, r.pl.teardown, true)
}

// secretOperationHeaders records the values of the operations' secret
// headers (Authorization: Bearer {{token}} …) as rendered with the run's
// variables.
func (r *run) secretOperationHeaders() {
	v := &attacks.Vars{Run: r.vars}
	for _, s := range r.pl.specs {
		for _, st := range s.Steps {
			for _, h := range st.Headers {
				if profiles.SecretName(h.Name) {
					r.secrets.add(h.Value.Render(v))
				}
			}
		}
	}
}

// scrubErr is err with its message scrubbed; errors.Is and errors.As still
// see the original chain.
func (r *run) scrubErr(err error) error {
	msg := err.Error()
	if s := r.secrets.scrub(msg); s != msg {
		return &scrubbedError{msg: s, err: err}
	}
	return err
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
