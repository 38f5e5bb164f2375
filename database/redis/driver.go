package redis

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/collide-dev/collide/database"
)

// Name is the driver's registered name.
const Name = "redis"

// DefaultPort is the port a URL without one connects to.
const DefaultPort = 6379

func init() { database.Register(Driver{}) }

// Driver is the Redis driver.
type Driver struct{}

// Name returns "redis".
func (Driver) Name() string { return Name }

// DefaultPort returns 6379.
func (Driver) DefaultPort() int { return DefaultPort }

// Features: commands, not SQL, with $1, $2 … replaced within words; the
// demo does not keep its tables in Redis but can keep its locks there
// (LockStore), and collide starts no Redis container.
func (Driver) Features() database.Features {
	return database.Features{LockStore: true, Syntax: database.Syntax{Numbered: true}, Rank: 4}
}

// Check requires a DSN (a container, which this driver cannot have, is
// reported by the caller from Features).
func (Driver) Check(s database.Setting) []database.Problem {
	if s.DSN == "" && !s.Container {
		return []database.Problem{{Field: "database.dsn", Msg: "required for driver redis (e.g. redis://127.0.0.1:6379/0)"}}
	}
	return nil
}

// Open connects and pings. It speaks RESP2, with client retries off: a
// command that may have run is never sent twice.
func (d Driver) Open(ctx context.Context, dsn string) (database.DB, error) {
	opt, err := redis.ParseURL(dsn)
	if err != nil {
		return nil, database.ConnectError(d, dsn, err, database.URLPasswords(dsn)...)
	}
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, database.ConnectError(d, dsn, err, database.URLPasswords(dsn)...)
	}
	return &DB{c: c}, nil
}

// isURL reports whether dsn is one of the driver's URL forms.
func isURL(dsn string) bool {
	scheme, _, ok := strings.Cut(dsn, "://")
	return ok && (scheme == "redis" || scheme == "rediss" || scheme == "unix")
}

// Address returns "tcp" and host:port (default localhost:6379), or "unix"
// and the socket path of a unix:// URL.
func (Driver) Address(dsn string) (network, address string, err error) {
	if !isURL(dsn) {
		return "", "", fmt.Errorf("parse DSN: want a redis://, rediss:// or unix:// URL (e.g. redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(dsn)
	if err != nil {
		return "", "", fmt.Errorf("parse DSN: %w", err)
	}
	return opt.Network, opt.Addr, nil
}

// Through returns the URL connecting to hostport instead. A redis:// or
// rediss:// URL keeps everything but its host; a unix:// URL becomes a
// redis:// URL with the same user, password, database number and other
// parameters.
func (d Driver) Through(dsn, hostport string) (string, error) {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return "", fmt.Errorf("proxy address: %w", err)
	}
	if _, _, err := d.Address(dsn); err != nil {
		return "", err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse DSN: %w", err)
	}
	if u.Scheme == "unix" {
		q := u.Query()
		db := q.Get("db")
		q.Del("db")
		u.Scheme, u.Path, u.RawQuery = "redis", "/"+db, q.Encode()
		if db == "" {
			u.Path = ""
		}
	}
	u.Host = hostport
	return u.String(), nil
}

// Redact hides the password of a Redis URL; anything else is returned
// unchanged.
func (Driver) Redact(dsn string) string {
	if !isURL(dsn) {
		return dsn
	}
	return database.RedactURL(dsn)
}
