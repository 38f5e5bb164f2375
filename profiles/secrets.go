package profiles

import (
	"regexp"
	"sort"
	"strings"

	"github.com/collide-dev/collide/redact"
)

// Redacted is the placeholder collide writes in place of a secret, in every
// file, report, message and log line: redact.Placeholder, under the name
// profiles' users already know.
const Redacted = redact.Placeholder

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
	// (Not a comparison: "token == 1" is no key=value.)
	keyValue = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;,'"=][^\s&;,'"]*)`)
	// Bearer <token> — an Authorization value quoted in a message.
	bearer = regexp.MustCompile(`(?i)\bBearer\s+([A-Za-z0-9._~+/=-]{4,})`)
)

// placeholders are the words that stand for a password in examples and
// help texts ("postgres://user:pass@…"): never secrets themselves.
var placeholders = map[string]bool{"pass": true, "password": true, "secret": true, "…": true, "...": true, "***": true, "xxxxx": true}

// TextSecrets returns the secrets written in free text: the password of a
// URL or DSN (scheme://user:password@…, user:password@tcp(…)), the value of
// a JSON field or of a key=value pair whose name is secret (SecretName; the
// last dotted segment of the key counts, so -set …headers.Cookie=… is
// secret), and a bearer token. Values already Redacted, templates ({{…}})
// and placeholders (pass, password, secret, …) are not secrets.
func TextSecrets(s string) []string {
	var out []string
	for _, sp := range secretSpans(s) {
		out = append(out, s[sp[0]:sp[1]])
	}
	return out
}

// RedactText replaces, in s, each secret TextSecrets finds with Redacted,
// where it is found: "postgres://collide:collide@host/collide" becomes
// "postgres://collide:REDACTED@host/collide".
func RedactText(s string) string {
	spans := secretSpans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[0] < last {
			continue // inside a span already replaced
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(Redacted)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretSpans are the byte ranges of the secrets in s, in order.
func secretSpans(s string) [][2]int {
	var out [][2]int
	add := func(i, j int) {
		for i < j && (s[i] == ' ' || s[i] == '\'' || s[i] == '\t') {
			i++
		}
		for j > i && (s[j-1] == ' ' || s[j-1] == '\'' || s[j-1] == '\t') {
			j--
		}
		v := s[i:j]
		if v == "" || v == Redacted || strings.Contains(v, "{{") || placeholders[strings.ToLower(v)] {
			return
		}
		out = append(out, [2]int{i, j})
	}
	// Each pattern runs only where its marker is: most texts (an op's
	// transport error) have none, and then cost a few byte scans.
	at := strings.IndexByte(s, '@') >= 0
	if at && strings.Contains(s, "://") {
		for _, m := range urlPassword.FindAllStringSubmatchIndex(s, -1) {
			add(m[2], m[3])
		}
	}
	if at && (strings.Contains(s, "@tcp(") || strings.Contains(s, "@unix(")) {
		for _, m := range mysqlPassword.FindAllStringSubmatchIndex(s, -1) {
			add(m[2], m[3])
		}
	}
	if hasJSONField(s) {
		for _, m := range jsonField.FindAllStringSubmatchIndex(s, -1) {
			if SecretName(s[m[2]:m[3]]) {
				add(m[4], m[5])
			}
		}
	}
	if strings.IndexByte(s, '=') >= 0 {
		for _, m := range keyValue.FindAllStringSubmatchIndex(s, -1) {
			key := s[m[2]:m[3]]
			if i := strings.LastIndexByte(key, '.'); i >= 0 {
				key = key[i+1:]
			}
			if SecretName(key) {
				add(m[4], m[5])
			}
		}
	}
	if strings.Contains(s, "earer") || strings.Contains(s, "EARER") {
		for _, m := range bearer.FindAllStringSubmatchIndex(s, -1) {
			add(m[2], m[3])
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a][0] != out[b][0] {
			return out[a][0] < out[b][0]
		}
		return out[a][1] > out[b][1]
	})
	return out
}

// hasJSONField reports whether s may hold a "name": "value" pair: a quote,
// a colon and a quote, with only spaces between.
func hasJSONField(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		j := i - 1
		for j >= 0 && (s[j] == ' ' || s[j] == '\t') {
			j--
		}
		k := i + 1
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		if j >= 0 && s[j] == '"' && k < len(s) && s[k] == '"' {
			return true
		}
	}
	return false
}
