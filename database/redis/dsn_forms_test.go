package redis_test

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/database/redis"
)

func TestDSN(t *testing.T) {
	dbtest.RunDSNCases(t, redis.Driver{}, "127.0.0.1:40002", []dbtest.DSNCase{
		{Name: "url", DSN: "redis://127.0.0.1:6379/0",
			Network: "tcp", Address: "127.0.0.1:6379",
			Through: "redis://127.0.0.1:40002/0", Redacted: "redis://127.0.0.1:6379/0"},
		{Name: "missing port", DSN: "redis://:s3cret@cache.internal/2",
			Network: "tcp", Address: "cache.internal:6379",
			Through: "redis://:s3cret@127.0.0.1:40002/2", Redacted: "redis://:REDACTED@cache.internal/2"},
		{Name: "user and special password", DSN: "redis://collide:p%40ss%2Fw@127.0.0.1:6380/1?dial_timeout=5s",
			Network: "tcp", Address: "127.0.0.1:6380",
			Through: "redis://collide:p%40ss%2Fw@127.0.0.1:40002/1?dial_timeout=5s", Redacted: "redis://collide:REDACTED@127.0.0.1:6380/1?dial_timeout=5s"},
		{Name: "ipv6", DSN: "redis://[::1]:6379/0",
			Network: "tcp", Address: "[::1]:6379",
			Through: "redis://127.0.0.1:40002/0", Redacted: "redis://[::1]:6379/0"},
		{Name: "tls", DSN: "rediss://:pw1@cache.example:6380/0",
			Network: "tcp", Address: "cache.example:6380",
			Through: "rediss://:pw1@127.0.0.1:40002/0", Redacted: "rediss://:REDACTED@cache.example:6380/0"},
		{Name: "unix socket", DSN: "unix://:s3cret@/run/redis.sock?db=3&dial_timeout=5s",
			Network: "unix", Address: "/run/redis.sock",
			Through: "redis://:s3cret@127.0.0.1:40002/3?dial_timeout=5s", Redacted: "unix://:REDACTED@/run/redis.sock?db=3&dial_timeout=5s"},
		{Name: "unix socket without db", DSN: "unix:///run/redis.sock",
			Network: "unix", Address: "/run/redis.sock",
			Through: "redis://127.0.0.1:40002", Redacted: "unix:///run/redis.sock"},
	})
}

func TestDSNErrors(t *testing.T) {
	dbtest.RunDSNErrors(t, redis.Driver{}, []dbtest.DSNErrorCase{
		{Name: "not a url", DSN: "127.0.0.1:6379", Want: "want a redis://"},
		{Name: "other scheme", DSN: "http://x", Want: "want a redis://"},
		{Name: "bad escape", DSN: "redis://%zz", Want: "parse DSN"},
		{Name: "bad database number", DSN: "redis://127.0.0.1:6379/x", Want: "parse DSN"},
	})
}
