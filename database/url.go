package database

import (
	"net/url"
	"strings"

	"github.com/collide-dev/collide/redact"
)

// RedactURL hides the password of a URL DSN (scheme://user:pass@host/…?
// password=…): the userinfo password and any query parameter named
// password (any case). A URL that does not parse keeps its text up to
// "://" and from its last "@", with everything between hidden.
func RedactURL(dsn string) string {
	i := strings.Index(dsn, "://")
	if i <= 0 {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		if at := strings.LastIndex(dsn, "@"); at > i {
			return dsn[:i+3] + redact.Placeholder + dsn[at:]
		}
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redact.Placeholder)
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, redact.Placeholder)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// URLPasswords returns the passwords of a URL DSN: the userinfo password
// and the values of password query parameters, to Scrub them from errors.
func URLPasswords(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	var ps []string
	if p, ok := u.User.Password(); ok {
		ps = append(ps, p)
	}
	for k, vs := range u.Query() {
		if strings.EqualFold(k, "password") {
			ps = append(ps, vs...)
		}
	}
	return ps
}
