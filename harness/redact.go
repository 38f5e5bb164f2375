package harness

import (
	"net/url"
	"strings"

	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// Redacted is the placeholder written in place of a secret.
const Redacted = "REDACTED"

// secretHeader reports whether a header's value is a secret: credentials,
// cookies, API keys and tokens never reach logs, results or reports.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "api-key", "apikey", "auth", "session", "signature"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
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
		if len(op.Request.Headers) > 0 {
			h := make(map[string]string, len(op.Request.Headers))
			for k, v := range op.Request.Headers {
				if secretHeader(k) {
					v = Redacted
				}
				h[k] = v
			}
			op.Request.Headers = h
		}
		c.Operations[i] = op
	}
	return &c
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
