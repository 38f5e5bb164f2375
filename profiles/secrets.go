package profiles

import (
	"regexp"
	"strings"
)

// Redacted is the placeholder collide writes in place of a secret, in every
// file, report, message and log line.
const Redacted = "REDACTED"

// SecretName reports whether a name marks its value as a secret. It is the
// one rule for every kind of name: HTTP headers (Authorization,
// Proxy-Authorization, Cookie, Set-Cookie), JSON fields of request bodies,
// key=value pairs (password=… in a DSN or a form), environment variables,
// captures, and -set paths (the last segment). A name is secret when it is
// one of those headers or, ignoring case and with _ read as -, holds token,
// secret, password, passwd, api-key, apikey, auth, session, signature,
// credential or private-key. Values under such names, and the variables
// used in them, never reach logs, results or reports.
func SecretName(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "pwd":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "api-key", "apikey", "auth", "session", "signature", "credential", "private-key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

var (
	// scheme://user:password@host
	urlPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"]*:([^@\s/'"]+)@`)
	// user:password@tcp(host) — the MySQL driver's DSN.
	mysqlPassword = regexp.MustCompile(`(?:^|\s)[^:/@?\s'"]+:([^@\s'"]+)@(?:tcp|unix)\(`)
	// "name": "value" — a JSON field.
	jsonField = regexp.MustCompile(`"([^"\\]{1,64})"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	// name=value — a key=value DSN, a form body, a query string, a cookie.
	keyValue = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;,'"]+)`)
	// Bearer <token> — an Authorization value quoted in a message.
	bearer = regexp.MustCompile(`(?i)\bBearer\s+([A-Za-z0-9._~+/=-]{4,})`)
)

// TextSecrets returns the secrets written in free text: the password of a
// URL or DSN (scheme://user:password@…, user:password@tcp(…)), the value of
// a JSON field or of a key=value pair whose name is secret (SecretName; the
// last dotted segment of the key counts, so -set …headers.Cookie=… is
// secret), and a bearer token. Values already Redacted, and templates
// ({{…}}), are not secrets.
func TextSecrets(s string) []string {
	var out []string
	add := func(v string) {
		v = strings.Trim(strings.TrimSpace(v), `'`)
		if v == "" || v == Redacted || strings.Contains(v, "{{") {
			return
		}
		out = append(out, v)
	}
	for _, m := range urlPassword.FindAllStringSubmatch(s, -1) {
		add(m[1])
	}
	for _, m := range mysqlPassword.FindAllStringSubmatch(s, -1) {
		add(m[1])
	}
	for _, m := range jsonField.FindAllStringSubmatch(s, -1) {
		if SecretName(m[1]) {
			add(m[2])
		}
	}
	for _, m := range keyValue.FindAllStringSubmatch(s, -1) {
		key := m[1]
		if i := strings.LastIndexByte(key, '.'); i >= 0 {
			key = key[i+1:]
		}
		if SecretName(key) {
			add(m[2])
		}
	}
	for _, m := range bearer.FindAllStringSubmatch(s, -1) {
		add(m[1])
	}
	return out
}
