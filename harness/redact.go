package harness

import (
	"net/url"
	"strings"

	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// Redacted is the placeholder written in place of a secret.
const Redacted = "REDACTED"

// secretHeader reports whether a header's value is a secret (see
// profiles.SecretHeader).
func secretHeader(name string) bool { return profiles.SecretHeader(name) }

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
