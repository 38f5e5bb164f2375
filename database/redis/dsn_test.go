package redis

import (
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	const proxy = "127.0.0.1:40002"
	for _, tc := range []struct {
		name, dsn         string
		network, address  string
		through, redacted string
	}{
		{name: "url", dsn: "redis://127.0.0.1:6379/0",
			network: "tcp", address: "127.0.0.1:6379",
			through: "redis://127.0.0.1:40002/0", redacted: "redis://127.0.0.1:6379/0"},
		{name: "missing port", dsn: "redis://:s3cret@cache.internal/2",
			network: "tcp", address: "cache.internal:6379",
			through: "redis://:s3cret@127.0.0.1:40002/2", redacted: "redis://:REDACTED@cache.internal/2"},
		{name: "user and special password", dsn: "redis://collide:p%40ss%2Fw@127.0.0.1:6380/1?dial_timeout=5s",
			network: "tcp", address: "127.0.0.1:6380",
			through: "redis://collide:p%40ss%2Fw@127.0.0.1:40002/1?dial_timeout=5s", redacted: "redis://collide:REDACTED@127.0.0.1:6380/1?dial_timeout=5s"},
		{name: "ipv6", dsn: "redis://[::1]:6379/0",
			network: "tcp", address: "[::1]:6379",
			through: "redis://127.0.0.1:40002/0", redacted: "redis://[::1]:6379/0"},
		{name: "tls", dsn: "rediss://:pw1@cache.example:6380/0",
			network: "tcp", address: "cache.example:6380",
			through: "rediss://:pw1@127.0.0.1:40002/0", redacted: "rediss://:REDACTED@cache.example:6380/0"},
		{name: "unix socket", dsn: "unix://:s3cret@/run/redis.sock?db=3&dial_timeout=5s",
			network: "unix", address: "/run/redis.sock",
			through: "redis://:s3cret@127.0.0.1:40002/3?dial_timeout=5s", redacted: "unix://:REDACTED@/run/redis.sock?db=3&dial_timeout=5s"},
		{name: "unix socket without db", dsn: "unix:///run/redis.sock",
			network: "unix", address: "/run/redis.sock",
			through: "redis://127.0.0.1:40002", redacted: "unix:///run/redis.sock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			network, address, err := Driver{}.Address(tc.dsn)
			if err != nil || network != tc.network || address != tc.address {
				t.Errorf("Address = %q %q, %v; want %q %q", network, address, err, tc.network, tc.address)
			}
			got, err := Driver{}.Through(tc.dsn, proxy)
			if err != nil || got != tc.through {
				t.Errorf("Through = %q, %v; want %q", got, err, tc.through)
			}
			if got := (Driver{}).Redact(tc.dsn); got != tc.redacted {
				t.Errorf("Redact = %q, want %q", got, tc.redacted)
			}
		})
	}
}

func TestDSNErrors(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{name: "not a url", dsn: "127.0.0.1:6379", want: "want a redis://"},
		{name: "other scheme", dsn: "http://x", want: "want a redis://"},
		{name: "bad escape", dsn: "redis://%zz", want: "parse DSN"},
		{name: "bad database number", dsn: "redis://127.0.0.1:6379/x", want: "parse DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := (Driver{}).Address(tc.dsn); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Address(%q) = %v, want an error containing %q", tc.dsn, err, tc.want)
			}
			if _, err := (Driver{}).Through(tc.dsn, "127.0.0.1:1"); err == nil {
				t.Errorf("Through(%q): no error", tc.dsn)
			}
		})
	}
}
