package postgres

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/redact"
)

// defaultHost is the host of a DSN that names none: collide assumes the
// local server over TCP.
const defaultHost = "127.0.0.1"

// isURL reports whether dsn is in URL form.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// hostPort returns the host and port dsn connects to, defaults filled in;
// with several hosts (h1,h2), the first.
func hostPort(dsn string) (host, port string, err error) {
	if isURL(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("parse DSN: %w", err)
		}
		hp, _, _ := strings.Cut(u.Host, ",")
		host, port = hp, ""
		if h, p, err := net.SplitHostPort(hp); err == nil {
			host, port = h, p
		}
		host = strings.Trim(host, "[]")
		q := u.Query()
		if h := q.Get("host"); h != "" {
			host = h
		}
		if p := q.Get("port"); p != "" {
			port = p
		}
	} else {
		pairs, err := parseKV(dsn)
		if err != nil {
			return "", "", err
		}
		for _, p := range pairs {
			switch p.key {
			case "host":
				host = p.value
			case "port":
				port = p.value
			}
		}
	}
	host, _, _ = strings.Cut(host, ",")
	port, _, _ = strings.Cut(port, ",")
	if host == "" {
		host = defaultHost
	}
	if port == "" {
		port = strconv.Itoa(DefaultPort)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("parse DSN: invalid port %q", port)
	}
	return host, port, nil
}

// Address returns "tcp" and host:port (default 127.0.0.1:5432), or "unix"
// and the socket path (host/.s.PGSQL.port) when host is a directory.
func (Driver) Address(dsn string) (network, address string, err error) {
	host, port, err := hostPort(dsn)
	if err != nil {
		return "", "", err
	}
	if strings.HasPrefix(host, "/") {
		return "unix", strings.TrimRight(host, "/") + "/.s.PGSQL." + port, nil
	}
	return "tcp", net.JoinHostPort(host, port), nil
}

// Through returns dsn with its host and port replaced by hostport, in the
// same form: a URL gets hostport as its host (and loses host, hostaddr and
// port query parameters); a key=value DSN loses its host, hostaddr and
// port pairs and gets host=… port=… at its end.
func (Driver) Through(dsn, hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("proxy address: %w", err)
	}
	if _, _, err := hostPort(dsn); err != nil {
		return "", err
	}
	if isURL(dsn) {
		u, _ := url.Parse(dsn)
		u.Host = hostport
		if u.RawQuery != "" {
			q := u.Query()
			if q.Has("host") || q.Has("hostaddr") || q.Has("port") {
				q.Del("host")
				q.Del("hostaddr")
				q.Del("port")
				u.RawQuery = q.Encode()
			}
		}
		return u.String(), nil
	}
	pairs, _ := parseKV(dsn)
	var b strings.Builder
	for _, p := range pairs {
		switch p.key {
		case "host", "hostaddr", "port":
			continue
		}
		b.WriteString(dsn[p.start:p.end])
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "host=%s port=%s", quoteKV(host), port)
	return b.String(), nil
}

// Redact hides the password of a URL (user:pass@ and ?password=) or of a
// key=value DSN (password=…, quoted or not). Text that is neither is
// returned unchanged.
func (Driver) Redact(dsn string) string {
	if isURL(dsn) {
		return database.RedactURL(dsn)
	}
	pairs, err := parseKV(dsn)
	if err != nil || len(pairs) == 0 {
		return dsn
	}
	var b strings.Builder
	last := 0
	for _, p := range pairs {
		if strings.EqualFold(p.key, "password") {
			b.WriteString(dsn[last:p.valueStart])
			b.WriteString(redact.Placeholder)
			last = p.end
		}
	}
	b.WriteString(dsn[last:])
	return b.String()
}

// passwords returns the passwords written in dsn, to scrub them from
// driver errors.
func passwords(dsn string) []string {
	if isURL(dsn) {
		return database.URLPasswords(dsn)
	}
	pairs, _ := parseKV(dsn)
	var ps []string
	for _, p := range pairs {
		if strings.EqualFold(p.key, "password") {
			ps = append(ps, p.value)
		}
	}
	return ps
}

// kvPair is one key=value of a libpq DSN: the unquoted value, and where
// the pair (start:end) and its value (valueStart:end) are in the text.
type kvPair struct {
	key, value             string
	start, valueStart, end int
}

// parseKV splits a libpq key=value DSN: key = value pairs separated by
// spaces, = with optional spaces around it, values 'single quoted' (with
// \' and \\) or bare (with \ escapes).
func parseKV(dsn string) ([]kvPair, error) {
	var pairs []kvPair
	i, n := 0, len(dsn)
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for {
		for i < n && space(dsn[i]) {
			i++
		}
		if i >= n {
			return pairs, nil
		}
		start := i
		for i < n && dsn[i] != '=' && !space(dsn[i]) {
			i++
		}
		key := dsn[start:i]
		for i < n && space(dsn[i]) {
			i++
		}
		if i >= n || dsn[i] != '=' || key == "" {
			return nil, fmt.Errorf("parse DSN: %q is not a key=value pair (want e.g. host=127.0.0.1 port=5432 or a postgres:// URL)", dsn[start:i])
		}
		i++
		for i < n && space(dsn[i]) {
			i++
		}
		valueStart := i
		var v strings.Builder
		if i < n && dsn[i] == '\'' {
			i++
			closed := false
			for i < n {
				c := dsn[i]
				if c == '\\' && i+1 < n {
					v.WriteByte(dsn[i+1])
					i += 2
					continue
				}
				i++
				if c == '\'' {
					closed = true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("parse DSN: unterminated quoted value of %s", key)
			}
		} else {
			for i < n && !space(dsn[i]) {
				if dsn[i] == '\\' && i+1 < n {
					i++
				}
				v.WriteByte(dsn[i])
				i++
			}
		}
		pairs = append(pairs, kvPair{key: key, value: v.String(), start: start, valueStart: valueStart, end: i})
	}
}

// quoteKV quotes a key=value DSN value when it needs it.
func quoteKV(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\\") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
