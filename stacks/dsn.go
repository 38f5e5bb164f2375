package stacks

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// PostgresHostPort returns the host:port a PostgreSQL DSN (URL or key=value
// form) connects to; the port defaults to 5432.
func PostgresHostPort(dsn string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "5432"
		}
		return net.JoinHostPort(host, port), nil
	}
	kv := parseKV(dsn)
	host, port := kv["host"], kv["port"]
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port), nil
}

// RewritePostgresHost returns dsn with its host and port replaced by
// hostport (a proxy in front of the server), keeping everything else.
func RewritePostgresHost(dsn, hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		u.Host = hostport
		return u.String(), nil
	}
	out := kvHost.ReplaceAllString(dsn, "")
	out = kvPort.ReplaceAllString(out, "")
	return strings.TrimSpace(out) + " host=" + host + " port=" + port, nil
}

var (
	kvHost = regexp.MustCompile(`(^|\s)host=\S*`)
	kvPort = regexp.MustCompile(`(^|\s)port=\S*`)
)

func parseKV(dsn string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = strings.Trim(v, "'")
		}
	}
	return m
}

// MySQLHostPort returns the host:port a MySQL/MariaDB DSN connects to:
// go-sql-driver's form user:pass@tcp(host:port)/db or a URL
// mysql://user:pass@host:port/db (mariadb:// too); the port defaults to
// 3306. A DSN without a TCP address (a Unix socket) is an error.
func MySQLHostPort(dsn string) (string, error) {
	if u, ok := mysqlURL(dsn); ok {
		if u.Hostname() == "" {
			return "127.0.0.1:3306", nil
		}
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		return net.JoinHostPort(u.Hostname(), port), nil
	}
	i, j, ok := mysqlTCP(dsn)
	if !ok {
		return "", fmt.Errorf("mysql DSN names no tcp(host:port) address")
	}
	hp := dsn[i:j]
	if _, _, err := net.SplitHostPort(hp); err != nil {
		hp = net.JoinHostPort(strings.Trim(hp, "[]"), "3306")
	}
	return hp, nil
}

// RewriteMySQLHost returns dsn with its host and port replaced by hostport
// (a proxy in front of the server), keeping everything else.
func RewriteMySQLHost(dsn, hostport string) (string, error) {
	if u, ok := mysqlURL(dsn); ok {
		u.Host = hostport
		return u.String(), nil
	}
	i, j, ok := mysqlTCP(dsn)
	if !ok {
		return "", fmt.Errorf("mysql DSN names no tcp(host:port) address")
	}
	return dsn[:i] + hostport + dsn[j:], nil
}

// mysqlURL parses dsn if it is a mysql:// or mariadb:// URL.
func mysqlURL(dsn string) (*url.URL, bool) {
	if !strings.HasPrefix(dsn, "mysql://") && !strings.HasPrefix(dsn, "mariadb://") {
		return nil, false
	}
	u, err := url.Parse(dsn)
	return u, err == nil
}

// mysqlTCP returns the bounds of host:port inside the tcp(…) of a
// go-sql-driver DSN.
func mysqlTCP(dsn string) (start, end int, ok bool) {
	i := strings.Index(dsn, "@tcp(")
	if i >= 0 {
		i += len("@tcp(")
	} else if strings.HasPrefix(dsn, "tcp(") {
		i = len("tcp(")
	} else {
		return 0, 0, false
	}
	j := strings.Index(dsn[i:], ")")
	if j < 0 {
		return 0, 0, false
	}
	return i, i + j, true
}

// DSNHost returns the host a MySQL (user:pass@tcp(host:port)/db or
// mysql://user:pass@host:port/db) or Redis (redis://host:port/n) DSN
// connects to; "" when it names none (a socket).
func DSNHost(driver, dsn string) string {
	switch driver {
	case "redis":
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		return u.Hostname()
	case "mysql":
		if u, ok := mysqlURL(dsn); ok {
			return u.Hostname()
		}
		i := strings.Index(dsn, "tcp(")
		if i < 0 {
			return ""
		}
		hp := dsn[i+4:]
		if j := strings.Index(hp, ")"); j >= 0 {
			hp = hp[:j]
		}
		if h, _, err := net.SplitHostPort(hp); err == nil {
			return h
		}
		return hp
	}
	return ""
}
