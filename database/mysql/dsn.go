package mysql

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/redact"
)

// urlScheme returns the scheme of a mysql:// or mariadb:// URL, "" for
// the driver's own form.
func urlScheme(dsn string) string {
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && (scheme == "mysql" || scheme == "mariadb") {
		return scheme
	}
	return ""
}

// parse reads either DSN form into the driver's config (Net and Addr
// filled in, the port defaulting to 3306) and returns its raw query.
func parse(dsn string) (*mysql.Config, string, error) {
	if scheme := urlScheme(dsn); scheme != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, "", fmt.Errorf("invalid URL: %w", err)
		}
		host := u.Host
		if host == "" {
			host = "127.0.0.1"
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(DefaultPort))
		}
		q := ""
		if u.RawQuery != "" {
			q = "?" + u.RawQuery
		}
		cfg, err := mysql.ParseDSN("tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/") + q)
		if err != nil {
			return nil, "", err
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		return cfg, u.RawQuery, nil
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, "", err
	}
	// The driver adds the default port to tcp([::1]) as [[::1]]:3306.
	if cfg.Net != "unix" && strings.HasPrefix(cfg.Addr, "[[") {
		cfg.Addr = strings.Replace(cfg.Addr[1:], "]]", "]", 1)
	}
	_, q, _ := strings.Cut(dsn, "?")
	return cfg, q, nil
}

// Address returns "tcp" and host:port (the port defaults to 3306; no
// address at all is 127.0.0.1:3306), or "unix" and the socket path.
func (Driver) Address(dsn string) (network, address string, err error) {
	cfg, _, err := parse(dsn)
	if err != nil {
		return "", "", fmt.Errorf("parse DSN: %w", err)
	}
	switch cfg.Net {
	case "tcp", "tcp4", "tcp6", "unix":
		return strings.TrimRight(cfg.Net, "46"), cfg.Addr, nil
	}
	return "", "", fmt.Errorf("parse DSN: network %q is neither tcp nor unix", cfg.Net)
}

// Through returns dsn connecting to hostport instead, in the same form: a
// URL gets hostport as its host; the driver's form gets tcp(hostport) in
// place of its net(address) part (or before its /db when it had none).
// User, password, database and parameters are kept as written.
func (d Driver) Through(dsn, hostport string) (string, error) {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return "", fmt.Errorf("proxy address: %w", err)
	}
	if _, _, err := d.Address(dsn); err != nil {
		return "", err
	}
	if urlScheme(dsn) != "" {
		u, _ := url.Parse(dsn)
		u.Host = hostport
		return u.String(), nil
	}
	at, slash := split(dsn)
	return dsn[:at] + "tcp(" + hostport + ")" + dsn[slash:], nil
}

// split finds, as mysql.ParseDSN does, the last / (before the database
// name) and the start of the net(address) part: after the last @ before
// that /, or 0 without userinfo.
func split(dsn string) (netStart, slash int) {
	slash = strings.LastIndex(dsn, "/")
	if slash < 0 {
		return 0, 0
	}
	if at := strings.LastIndex(dsn[:slash], "@"); at >= 0 {
		return at + 1, slash
	}
	return 0, slash
}

// Redact hides the password of either form. Text that is neither form
// (another driver's DSN) is returned unchanged.
func (Driver) Redact(dsn string) string {
	if urlScheme(dsn) != "" {
		return database.RedactURL(dsn)
	}
	user, _, netStart, ok := userinfo(dsn)
	if !ok {
		return dsn
	}
	return user + ":" + redact.Placeholder + dsn[netStart-1:]
}

// userinfo returns the user and password of the driver's form and where
// its net(address) part starts; ok is false without a password or when
// dsn is not of that form (no /, a user holding / : ? or @, or a
// net(address) part that is neither empty nor name(…)).
func userinfo(dsn string) (user, password string, netStart int, ok bool) {
	netStart, slash := split(dsn)
	if netStart == 0 {
		return "", "", 0, false
	}
	user, password, hasPw := strings.Cut(dsn[:netStart-1], ":")
	if !hasPw || user == "" || strings.ContainsAny(user, "/:?@") {
		return "", "", 0, false
	}
	if np := dsn[netStart:slash]; np != "" {
		name, _, paren := strings.Cut(np, "(")
		if !paren || !strings.HasSuffix(np, ")") || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return "", "", 0, false
		}
	}
	return user, password, netStart, true
}

// passwords returns the password written in dsn, to scrub it from errors.
func passwords(dsn string) []string {
	if urlScheme(dsn) != "" {
		return database.URLPasswords(dsn)
	}
	if _, pw, _, ok := userinfo(dsn); ok {
		return []string{pw}
	}
	return nil
}
