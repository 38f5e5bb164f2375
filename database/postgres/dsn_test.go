package postgres

import (
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	const proxy = "127.0.0.1:40000"
	for _, tc := range []struct {
		name, dsn         string
		network, address  string
		through, redacted string
	}{
		{name: "url", dsn: "postgres://u:p@db.example:5433/app?sslmode=disable",
			network: "tcp", address: "db.example:5433",
			through: "postgres://u:p@127.0.0.1:40000/app?sslmode=disable", redacted: "postgres://u:REDACTED@db.example:5433/app?sslmode=disable"},
		{name: "url default port", dsn: "postgresql://u@127.0.0.1/app",
			network: "tcp", address: "127.0.0.1:5432",
			through: "postgresql://u@127.0.0.1:40000/app", redacted: "postgresql://u@127.0.0.1/app"},
		{name: "url without host", dsn: "postgres:///app",
			network: "tcp", address: "127.0.0.1:5432",
			through: "postgres://127.0.0.1:40000/app", redacted: "postgres:///app"},
		{name: "url ipv6", dsn: "postgres://u:p@[::1]:6543/app",
			network: "tcp", address: "[::1]:6543",
			through: "postgres://u:p@127.0.0.1:40000/app", redacted: "postgres://u:REDACTED@[::1]:6543/app"},
		{name: "url ipv6 default port", dsn: "postgres://u@[fe80::1]/app",
			network: "tcp", address: "[fe80::1]:5432",
			through: "postgres://u@127.0.0.1:40000/app", redacted: "postgres://u@[fe80::1]/app"},
		{name: "url password with special characters", dsn: "postgres://u:p%40ss%2Fw%3Ard@h:5432/app",
			network: "tcp", address: "h:5432",
			through: "postgres://u:p%40ss%2Fw%3Ard@127.0.0.1:40000/app", redacted: "postgres://u:REDACTED@h:5432/app"},
		{name: "url password in the query", dsn: "postgres://u@h/app?password=s3cret&sslmode=disable",
			network: "tcp", address: "h:5432",
			through: "postgres://u@127.0.0.1:40000/app?password=s3cret&sslmode=disable", redacted: "postgres://u@h/app?password=REDACTED&sslmode=disable"},
		{name: "url unix socket in the query", dsn: "postgres://u@/app?host=/var/run/postgresql",
			network: "unix", address: "/var/run/postgresql/.s.PGSQL.5432",
			through: "postgres://u@127.0.0.1:40000/app", redacted: "postgres://u@/app?host=/var/run/postgresql"},
		{name: "url several hosts", dsn: "postgres://u@h1:5433,h2:5434/app",
			network: "tcp", address: "h1:5433",
			through: "postgres://u@127.0.0.1:40000/app", redacted: "postgres://u@h1:5433,h2:5434/app"},
		{name: "key=value", dsn: "host=127.0.0.1 port=6432 user=u dbname=app",
			network: "tcp", address: "127.0.0.1:6432",
			through: "user=u dbname=app host=127.0.0.1 port=40000", redacted: "host=127.0.0.1 port=6432 user=u dbname=app"},
		{name: "key=value default host and port", dsn: "user=u dbname=app",
			network: "tcp", address: "127.0.0.1:5432",
			through: "user=u dbname=app host=127.0.0.1 port=40000", redacted: "user=u dbname=app"},
		{name: "key=value quoted values", dsn: "host='db.example' password='a b\\'c' application_name='my app' port = 5433",
			network: "tcp", address: "db.example:5433",
			through: "password='a b\\'c' application_name='my app' host=127.0.0.1 port=40000", redacted: "host='db.example' password=REDACTED application_name='my app' port = 5433"},
		{name: "key=value unix socket", dsn: "host=/tmp dbname=app password=s3cret",
			network: "unix", address: "/tmp/.s.PGSQL.5432",
			through: "dbname=app password=s3cret host=127.0.0.1 port=40000", redacted: "host=/tmp dbname=app password=REDACTED"},
		{name: "key=value ipv6 hostaddr", dsn: "host=::1 hostaddr=::1 port=5432 PASSWORD=s3cret",
			network: "tcp", address: "[::1]:5432",
			through: "PASSWORD=s3cret host=127.0.0.1 port=40000", redacted: "host=::1 hostaddr=::1 port=5432 PASSWORD=REDACTED"},
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
		{name: "bad url escape", dsn: "postgres://%zz", want: "invalid URL escape"},
		{name: "not a dsn", dsn: "not a dsn", want: "not a key=value pair"},
		{name: "unterminated quote", dsn: "host='x", want: "unterminated"},
		{name: "bad port", dsn: "host=h port=http", want: `invalid port "http"`},
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

func TestPasswords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@h/db", "s3cret"},
		{"postgres://u@h/db?password=s3cret", "s3cret"},
		{"host=h password='a b\\'c'", "a b'c"},
		{"host=h", ""},
	} {
		if got := strings.Join(passwords(tc.in), ","); got != tc.want {
			t.Errorf("passwords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
