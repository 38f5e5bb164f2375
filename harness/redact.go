package harness

import (
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/collide-dev/collide/database"
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

// scrub replaces every secret in text with Redacted: those
// profiles.RedactText finds in text itself, where they are, and then the
// values recorded with add, wherever they are.
func (s *secrets) scrub(text string) string {
	if text == "" {
		return text
	}
	text = profiles.RedactText(text)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	return text
}

// collect records, before the run, the secret values of a profile and of
// its -set arguments that may show without their name (a service echoing a
// password or a token in an error message): the values of secret headers
// and of environment variables named like a secret, the values of request
// body and URL fields named like a secret (profiles.TextSecrets of every
// request's URL and body), and the values -set gives to a secret path.
// Passwords of DSNs and URLs are not recorded: a weak one ("collide") would
// hide every word it matches; they are redacted wherever a DSN or URL is
// written (scrub finds them in the text itself) and in driver errors
// (database.Open).
func (s *secrets) collect(p *profiles.Profile, overrides []string) {
	text := func(v string) { s.add(profiles.TextSecrets(v)...) }
	for _, o := range overrides {
		// A value redactOverrides hides whole is secret whole.
		if _, value, ok := strings.Cut(o, "="); ok && strings.HasSuffix(redactOverrides([]string{o})[0], "="+Redacted) {
			s.add(strings.Trim(value, `'"`))
		}
	}
	named := func(m map[string]string) {
		for k, v := range m {
			if secretHeader(k) {
				s.add(v)
			}
		}
	}
	request := func(rq profiles.Request) {
		text(rq.URL)
		text(rq.Body)
		named(rq.Headers)
		s.add(envSecrets(rq)...)
	}
	for _, op := range p.Operations {
		request(op.Request)
		for _, st := range op.Flow {
			request(st.Request)
		}
	}
	for _, st := range append(append([]profiles.SetupStep(nil), p.Setup...), p.Teardown...) {
		if st.Request != nil {
			request(*st.Request)
		}
	}
	if c := p.Target.Command; c != nil {
		named(c.Env)
	}
	if c := p.Target.Container; c != nil {
		named(c.Env)
	}
}

var (
	// {{env "NAME"}}
	envRef = regexp.MustCompile(`\{\{\s*env\s+"([A-Za-z_][A-Za-z0-9_]*)"\s*\}\}`)
	// "name": "{{env "NAME"}}" or name={{env "NAME"}}
	envField = regexp.MustCompile(`"?([A-Za-z_][A-Za-z0-9_.-]*)"?\s*[:=]\s*"?\{\{\s*env\s+"([A-Za-z_][A-Za-z0-9_]*)"\s*\}\}`)
)

// envSecrets returns the values of the environment variables a request
// reads at run time ({{env "NAME"}}) where they are secret: a variable
// named like a secret (SHOP_PASSWORD), or one used in a secret header or as
// the value of a body or URL field named like a secret
// ("password": "{{env "SHOP_PW"}}").
func envSecrets(rq profiles.Request) []string {
	var out []string
	get := func(name string) {
		if v, ok := os.LookupEnv(name); ok {
			out = append(out, v)
		}
	}
	for _, t := range []string{rq.URL, rq.Body} {
		for _, m := range envRef.FindAllStringSubmatch(t, -1) {
			if profiles.SecretName(m[1]) {
				get(m[1])
			}
		}
		for _, m := range envField.FindAllStringSubmatch(t, -1) {
			if profiles.SecretName(m[1]) {
				get(m[2])
			}
		}
	}
	for h, v := range rq.Headers {
		for _, m := range envRef.FindAllStringSubmatch(v, -1) {
			if secretHeader(h) || profiles.SecretName(m[1]) {
				get(m[1])
			}
		}
	}
	return out
}

// scrubResult replaces the result's content with a copy whose every
// string is scrubbed (secrets.scrub): messages, evidence, warnings, the
// effective profile and the overrides alike.
func (r *run) scrubResult() {
	*r.res = *scrubbed(reflect.ValueOf(r.res), r.secrets.scrub).Interface().(*report.Result)
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
	c.Database.DSN = database.Redact(p.Database.Driver, p.Database.DSN)
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
			v = database.Redact("", redactURL(v))
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
			value = database.Redact("", value)
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
