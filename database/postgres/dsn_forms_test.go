package postgres_test

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/database/postgres"
)

func TestDSN(t *testing.T) {
	dbtest.RunDSNCases(t, postgres.Driver{}, "127.0.0.1:40000", []dbtest.DSNCase{
		{Name: "url", DSN: "postgres://u:p@db.example:5433/app?sslmode=disable",
			Network: "tcp", Address: "db.example:5433",
			Through: "postgres://u:p@127.0.0.1:40000/app?sslmode=disable", Redacted: "postgres://u:REDACTED@db.example:5433/app?sslmode=disable"},
		{Name: "url default port", DSN: "postgresql://u@127.0.0.1/app",
			Network: "tcp", Address: "127.0.0.1:5432",
			Through: "postgresql://u@127.0.0.1:40000/app", Redacted: "postgresql://u@127.0.0.1/app"},
		{Name: "url without host", DSN: "postgres:///app",
			Network: "tcp", Address: "127.0.0.1:5432",
			Through: "postgres://127.0.0.1:40000/app", Redacted: "postgres:///app"},
		{Name: "url ipv6", DSN: "postgres://u:p@[::1]:6543/app",
			Network: "tcp", Address: "[::1]:6543",
			Through: "postgres://u:p@127.0.0.1:40000/app", Redacted: "postgres://u:REDACTED@[::1]:6543/app"},
		{Name: "url ipv6 default port", DSN: "postgres://u@[fe80::1]/app",
			Network: "tcp", Address: "[fe80::1]:5432",
			Through: "postgres://u@127.0.0.1:40000/app", Redacted: "postgres://u@[fe80::1]/app"},
		{Name: "url password with special characters", DSN: "postgres://u:p%40ss%2Fw%3Ard@h:5432/app",
			Network: "tcp", Address: "h:5432",
			Through: "postgres://u:p%40ss%2Fw%3Ard@127.0.0.1:40000/app", Redacted: "postgres://u:REDACTED@h:5432/app"},
		{Name: "url password in the query", DSN: "postgres://u@h/app?password=s3cret&sslmode=disable",
			Network: "tcp", Address: "h:5432",
			Through: "postgres://u@127.0.0.1:40000/app?password=s3cret&sslmode=disable", Redacted: "postgres://u@h/app?password=REDACTED&sslmode=disable"},
		{Name: "url unix socket in the query", DSN: "postgres://u@/app?host=/var/run/postgresql",
			Network: "unix", Address: "/var/run/postgresql/.s.PGSQL.5432",
			Through: "postgres://u@127.0.0.1:40000/app", Redacted: "postgres://u@/app?host=/var/run/postgresql"},
		{Name: "url several hosts", DSN: "postgres://u@h1:5433,h2:5434/app",
			Network: "tcp", Address: "h1:5433",
			Through: "postgres://u@127.0.0.1:40000/app", Redacted: "postgres://u@h1:5433,h2:5434/app"},
		{Name: "key=value", DSN: "host=127.0.0.1 port=6432 user=u dbname=app",
			Network: "tcp", Address: "127.0.0.1:6432",
			Through: "user=u dbname=app host=127.0.0.1 port=40000", Redacted: "host=127.0.0.1 port=6432 user=u dbname=app"},
		{Name: "key=value default host and port", DSN: "user=u dbname=app",
			Network: "tcp", Address: "127.0.0.1:5432",
			Through: "user=u dbname=app host=127.0.0.1 port=40000", Redacted: "user=u dbname=app"},
		{Name: "key=value quoted values", DSN: "host='db.example' password='a b\\'c' application_name='my app' port = 5433",
			Network: "tcp", Address: "db.example:5433",
			Through: "password='a b\\'c' application_name='my app' host=127.0.0.1 port=40000", Redacted: "host='db.example' password=REDACTED application_name='my app' port = 5433"},
		{Name: "key=value unix socket", DSN: "host=/tmp dbname=app password=s3cret",
			Network: "unix", Address: "/tmp/.s.PGSQL.5432",
			Through: "dbname=app password=s3cret host=127.0.0.1 port=40000", Redacted: "host=/tmp dbname=app password=REDACTED"},
		{Name: "key=value ipv6 hostaddr", DSN: "host=::1 hostaddr=::1 port=5432 PASSWORD=s3cret",
			Network: "tcp", Address: "[::1]:5432",
			Through: "PASSWORD=s3cret host=127.0.0.1 port=40000", Redacted: "host=::1 hostaddr=::1 port=5432 PASSWORD=REDACTED"},
	})
}

func TestDSNErrors(t *testing.T) {
	dbtest.RunDSNErrors(t, postgres.Driver{}, []dbtest.DSNErrorCase{
		{Name: "bad url escape", DSN: "postgres://%zz", Want: "invalid URL escape"},
		{Name: "not a dsn", DSN: "not a dsn", Want: "not a key=value pair"},
		{Name: "unterminated quote", DSN: "host='x", Want: "unterminated"},
		{Name: "bad port", DSN: "host=h port=http", Want: `invalid port "http"`},
	})
}
