package harness

import (
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// Redacted is the placeholder written in place of a secret.
const Redacted = profiles.Redacted

// secretHeader reports whether a name marks a secret (profiles.SecretName).
func secretHeader(name string) bool { return profiles.SecretName(name) }

// secrets is a run's one redaction: the secret values it has met — found
// in the profile and the -set arguments before the run (collect), rendered
// into secret headers, captured under secret names — and scrub, which
// replaces them, and whatever profiles.TextSecrets finds, in any text
// collide writes: result.json (scrubResult), history errors, log and
// progress lines, error messages. The structural redaction of the profile
// (redactedProfile, redactOverrides) runs first; scrub catches what the
// structure does not name.
type secrets struct {
	mu     sync.Mutex
	values []string
}

// minSecretLen is the shortest value scrubbed by value: shorter ones are
// not secrets worth the false matches.
const minSecretLen = 4

// add records values never to be written verbatim.
func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		// A header value such as "Bearer <token>": the token is the secret,
		// the scheme stays readable ("Bearer REDACTED").
		if _, rest, ok := strings.Cut(strings.TrimSpace(v), " "); ok && len(rest) >= 8 {
			v = rest
		}
		s.addLocked(v)
	}
}

func (s *secrets) addLocked(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minSecretLen || v == Redacted || strings.Contains(v, "{{") {
		return
	}
	for _, have := range s.values {
		if have == v {
			return
		}
	}
	s.values = append(s.values, v)
	// Longest first, so that a secret holding another is replaced whole.
	for i := len(s.values) - 1; i > 0 && len(s.values[i]) > len(s.values[i-1]); i-- {
		s.values[i], s.values[i-1] = s.values[i-1], s.values[i]
	}
}

// scrub replaces every secret in text with Redacted: the values recorded
// with add, and those profiles.TextSecrets finds in text itself.
func (s *secrets) scrub(text string) string {
	if text == "" {
		return text
	}
	found := profiles.TextSecrets(text)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	for _, v := range found {
		if len(v) >= 1 {
			text = strings.ReplaceAll(text, v, Redacted)
		}
	}
	return text
}

// collect records the secrets of a profile and of its -set arguments before
// the run: the values of secret headers and environment variables, the
// database container's password, and every secret profiles.TextSecrets
// finds in any text field (DSN and URL passwords, body fields named like
// password or token).
func (s *secrets) collect(p *profiles.Profile, overrides []string) {
	eachString(reflect.ValueOf(p), func(v string) { s.add(profiles.TextSecrets(v)...) })
	for _, o := range overrides {
		s.add(profiles.TextSecrets(o)...)
		// A value redactOverrides hides whole is secret whole.
		if _, value, ok := strings.Cut(o, "="); ok && strings.HasSuffix(redactOverrides([]string{o})[0], "="+Redacted) {
			s.add(strings.Trim(value, `'"`))
		}
	}
	headers := func(h map[string]string) {
		for k, v := range h {
			if secretHeader(k) {
				s.add(v)
			}
		}
	}
	env := func(e map[string]string) {
		for k, v := range e {
			if secretHeader(k) {
				s.add(v)
			}
		}
	}
	for _, op := range p.Operations {
		headers(op.Request.Headers)
		for _, st := range op.Flow {
			headers(st.Request.Headers)
		}
	}
	for _, st := range append(append([]profiles.SetupStep(nil), p.Setup...), p.Teardown...) {
		if st.Request != nil {
			headers(st.Request.Headers)
		}
	}
	if c := p.Target.Command; c != nil {
		env(c.Env)
	}
	if c := p.Target.Container; c != nil {
		env(c.Env)
	}
	if c := p.Database.Container; c != nil {
		s.add(c.Password)
	}
}

// scrubResult replaces the result's content with a copy whose every
// string is scrubbed (secrets.scrub): messages, evidence, warnings, the
// effective profile and the overrides alike.
func (r *run) scrubResult() {
	*r.res = *scrubbed(reflect.ValueOf(r.res), r.secrets.scrub).Interface().(*report.Result)
}

// eachString calls f with every string reachable from v.
func eachString(v reflect.Value, f func(string)) {
	switch v.Kind() {
	case reflect.String:
		f(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachString(v.Elem(), f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				eachString(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachString(v.Index(i), f)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			eachString(it.Key(), f)
			eachString(it.Value(), f)
		}
	}
}

// scrubbed returns a deep copy of v with f applied to every string in its
// exported fields, slices, maps (keys and values) and pointers; v itself is
// left alone (the result's effective profile shares slices with the
// profile being run).
func scrubbed(v reflect.Value, f func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(f(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(scrubbed(v.Elem(), f))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(scrubbed(v.Elem(), f))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(scrubbed(v.Field(i), f))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(scrubbed(v.Index(i), f))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(scrubbed(v.Index(i), f))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(scrubbed(it.Key(), f), scrubbed(it.Value(), f))
		}
		return out
	}
	return v
}

// redactURL hides the password of a URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// redactedProfile is a deep-enough copy of p with every secret replaced: the
// DSN's password, the target URL's password, and secret request headers.
func redactedProfile(p *profiles.Profile) *profiles.Profile {
	c := *p
	c.Database.DSN = invariants.RedactDSN(p.Database.DSN)
	c.Target.URL = redactURL(p.Target.URL)
	if cmd := p.Target.Command; cmd != nil {
		cc := *cmd
		cc.Env = redactEnv(cmd.Env)
		c.Target.Command = &cc
	}
	if ct := p.Target.Container; ct != nil {
		cc := *ct
		cc.Env = redactEnv(ct.Env)
		c.Target.Container = &cc
	}
	if dc := p.Database.Container; dc != nil {
		cc := *dc
		if cc.Password != "" {
			cc.Password = Redacted
		}
		c.Database.Container = &cc
	}
	c.Operations = make([]profiles.Operation, len(p.Operations))
	for i, op := range p.Operations {
		op.Request.Headers = redactHeaders(op.Request.Headers)
		if len(op.Flow) > 0 {
			flow := make([]profiles.Step, len(op.Flow))
			for j, st := range op.Flow {
				st.Request.Headers = redactHeaders(st.Request.Headers)
				flow[j] = st
			}
			op.Flow = flow
		}
		c.Operations[i] = op
	}
	c.Setup, c.Teardown = redactSteps(p.Setup), redactSteps(p.Teardown)
	return &c
}

// redactHeaders is a copy of h with secret header values replaced.
func redactHeaders(h map[string]string) map[string]string {
	if len(h) == 0 {
		return h
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if secretHeader(k) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

// redactSteps is a copy of setup or teardown steps with secret request
// headers replaced.
func redactSteps(steps []profiles.SetupStep) []profiles.SetupStep {
	if len(steps) == 0 {
		return steps
	}
	out := make([]profiles.SetupStep, len(steps))
	for i, st := range steps {
		if st.Request != nil {
			rq := *st.Request
			rq.Headers = redactHeaders(rq.Headers)
			st.Request = &rq
		}
		out[i] = st
	}
	return out
}

// redactEnv hides environment values whose name marks a secret, and the
// password of any value that is a URL or DSN with credentials.
func redactEnv(env map[string]string) map[string]string {
	if len(env) == 0 {
		return env
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		switch {
		case secretHeader(strings.ReplaceAll(k, "_", "-")):
			v = Redacted
		default:
			v = invariants.RedactDSN(redactURL(v))
		}
		out[k] = v
	}
	return out
}

// redactOverrides is a copy of --set arguments with their secrets replaced:
// a DSN's password, a URL's password, the value of a secret header or of a
// field named like a secret (password, token …), and the values of
// environment variables given to a command or container.
func redactOverrides(sets []string) []string {
	if len(sets) == 0 {
		return sets
	}
	out := make([]string, len(sets))
	for i, set := range sets {
		path, value, ok := strings.Cut(set, "=")
		if !ok {
			out[i] = set
			continue
		}
		last := path
		if j := strings.LastIndexAny(path, ".]"); j >= 0 {
			last = path[j+1:]
		}
		p := strings.ToLower(path)
		switch {
		case strings.HasSuffix(p, ".dsn") || p == "dsn":
			value = invariants.RedactDSN(value)
		case strings.Contains(p, ".env.") || strings.HasSuffix(p, ".env"):
			value = Redacted
		case secretHeader(last) || strings.Contains(strings.ToLower(last), "password"):
			value = Redacted
		default:
			value = redactURL(value)
		}
		out[i] = path + "=" + value
	}
	return out
}
