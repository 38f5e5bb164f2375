package stacks

import (
	"context"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		host    string
		wantErr bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"localhost", false},
		{"", false},
		{"10.0.0.5", true},
		{"192.0.2.10", true},
		{"8.8.8.8", true},
		{"::ffff:10.0.0.1", true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			err := CheckLoopback(context.Background(), "target", tc.host)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckLoopback(%q) = %v, want error %v", tc.host, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--allow-remote") {
				t.Fatalf("error does not say how to allow it: %v", err)
			}
		})
	}
}

func TestPostgresDSNRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, hostport, rewritten string
	}{
		{"url", "postgres://u:p@db.example:5433/app?sslmode=disable", "db.example:5433", "postgres://u:p@127.0.0.1:40000/app?sslmode=disable"},
		{"url default port", "postgresql://u@127.0.0.1/app", "127.0.0.1:5432", "postgresql://u@127.0.0.1:40000/app"},
		{"key=value", "host=127.0.0.1 port=6432 user=u dbname=app", "127.0.0.1:6432", "user=u dbname=app host=127.0.0.1 port=40000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hp, err := PostgresHostPort(tc.dsn)
			if err != nil || hp != tc.hostport {
				t.Fatalf("PostgresHostPort = %q, %v; want %q", hp, err, tc.hostport)
			}
			got, err := RewritePostgresHost(tc.dsn, "127.0.0.1:40000")
			if err != nil || got != tc.rewritten {
				t.Fatalf("RewritePostgresHost = %q, %v; want %q", got, err, tc.rewritten)
			}
		})
	}
}

func TestMySQLDSNRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, hostport, rewritten string
	}{
		{"driver form", "u:p@tcp(db.example:3307)/app?parseTime=true", "db.example:3307", "u:p@tcp(127.0.0.1:40000)/app?parseTime=true"},
		{"driver form default port", "u:p@tcp(127.0.0.1)/app", "127.0.0.1:3306", "u:p@tcp(127.0.0.1:40000)/app"},
		{"password with tcp(", "u:tcp(x@tcp(127.0.0.1:3306)/app", "127.0.0.1:3306", "u:tcp(x@tcp(127.0.0.1:40000)/app"},
		{"url", "mysql://u:p@db.example:3307/app?tls=false", "db.example:3307", "mysql://u:p@127.0.0.1:40000/app?tls=false"},
		{"mariadb url default port", "mariadb://u@127.0.0.1/app", "127.0.0.1:3306", "mariadb://u@127.0.0.1:40000/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hp, err := MySQLHostPort(tc.dsn)
			if err != nil || hp != tc.hostport {
				t.Fatalf("MySQLHostPort = %q, %v; want %q", hp, err, tc.hostport)
			}
			got, err := RewriteMySQLHost(tc.dsn, "127.0.0.1:40000")
			if err != nil || got != tc.rewritten {
				t.Fatalf("RewriteMySQLHost = %q, %v; want %q", got, err, tc.rewritten)
			}
		})
	}
	if _, err := MySQLHostPort("u:p@unix(/run/mysqld.sock)/x"); err == nil {
		t.Error("a socket DSN has no host:port, want an error")
	}
}

func TestDSNHost(t *testing.T) {
	for _, tc := range []struct{ driver, dsn, want string }{
		{"mysql", "collide:pw@tcp(127.0.0.1:3306)/collide", "127.0.0.1"},
		{"mysql", "u:p@tcp(db.internal)/x", "db.internal"},
		{"mysql", "u:p@unix(/run/mysqld.sock)/x", ""},
		{"mysql", "mysql://u:p@db.internal:3306/x", "db.internal"},
		{"mysql", "mariadb://u:p@127.0.0.1/x", "127.0.0.1"},
		{"redis", "redis://127.0.0.1:6379/0", "127.0.0.1"},
		{"redis", "redis://:pw@cache.internal:6379/2", "cache.internal"},
	} {
		if got := DSNHost(tc.driver, tc.dsn); got != tc.want {
			t.Errorf("DSNHost(%s, %s) = %q, want %q", tc.driver, tc.dsn, got, tc.want)
		}
	}
}
