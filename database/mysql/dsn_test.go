package mysql

import (
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	const proxy = "127.0.0.1:40001"
	for _, tc := range []struct {
		name, dsn         string
		network, address  string
		through, redacted string
	}{
		{name: "tcp", dsn: "root:pw@tcp(127.0.0.1:3306)/shop",
			network: "tcp", address: "127.0.0.1:3306",
			through: "root:pw@tcp(127.0.0.1:40001)/shop", redacted: "root:REDACTED@tcp(127.0.0.1:3306)/shop"},
		{name: "tcp missing port", dsn: "u:p@tcp(db.internal)/x?parseTime=true",
			network: "tcp", address: "db.internal:3306",
			through: "u:p@tcp(127.0.0.1:40001)/x?parseTime=true", redacted: "u:REDACTED@tcp(db.internal)/x?parseTime=true"},
		{name: "tcp ipv6", dsn: "u:p@tcp([::1]:3307)/x",
			network: "tcp", address: "[::1]:3307",
			through: "u:p@tcp(127.0.0.1:40001)/x", redacted: "u:REDACTED@tcp([::1]:3307)/x"},
		{name: "tcp ipv6 missing port", dsn: "u:p@tcp([::1])/x",
			network: "tcp", address: "[::1]:3306",
			through: "u:p@tcp(127.0.0.1:40001)/x", redacted: "u:REDACTED@tcp([::1])/x"},
		{name: "no address", dsn: "u:p@/x",
			network: "tcp", address: "127.0.0.1:3306",
			through: "u:p@tcp(127.0.0.1:40001)/x", redacted: "u:REDACTED@/x"},
		{name: "no userinfo", dsn: "tcp(db:3306)/x",
			network: "tcp", address: "db:3306",
			through: "tcp(127.0.0.1:40001)/x", redacted: "tcp(db:3306)/x"},
		{name: "unix socket", dsn: "u:p@unix(/run/mysqld/mysqld.sock)/x",
			network: "unix", address: "/run/mysqld/mysqld.sock",
			through: "u:p@tcp(127.0.0.1:40001)/x", redacted: "u:REDACTED@unix(/run/mysqld/mysqld.sock)/x"},
		{name: "password with special characters", dsn: "u:p@ss/w:rd(1)@tcp(127.0.0.1:3306)/x",
			network: "tcp", address: "127.0.0.1:3306",
			through: "u:p@ss/w:rd(1)@tcp(127.0.0.1:40001)/x", redacted: "u:REDACTED@tcp(127.0.0.1:3306)/x"},
		{name: "password holding tcp(", dsn: "u:tcp(x@tcp(127.0.0.1:3306)/app",
			network: "tcp", address: "127.0.0.1:3306",
			through: "u:tcp(x@tcp(127.0.0.1:40001)/app", redacted: "u:REDACTED@tcp(127.0.0.1:3306)/app"},
		{name: "mysql url", dsn: "mysql://u:p%2Fw@127.0.0.1/app?loc=Local",
			network: "tcp", address: "127.0.0.1:3306",
			through: "mysql://u:p%2Fw@127.0.0.1:40001/app?loc=Local", redacted: "mysql://u:REDACTED@127.0.0.1/app?loc=Local"},
		{name: "mariadb url ipv6", dsn: "mariadb://u:s3cret@[::1]:3307/app",
			network: "tcp", address: "[::1]:3307",
			through: "mariadb://u:s3cret@127.0.0.1:40001/app", redacted: "mariadb://u:REDACTED@[::1]:3307/app"},
		{name: "url without host", dsn: "mysql:///app",
			network: "tcp", address: "127.0.0.1:3306",
			through: "mysql://127.0.0.1:40001/app", redacted: "mysql:///app"},
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
		{name: "not a dsn", dsn: "not a dsn", want: "parse DSN"},
		{name: "bad url", dsn: "mysql://%zz", want: "invalid URL"},
		{name: "unclosed address", dsn: "u:p@tcp(127.0.0.1:3306/x", want: "parse DSN"},
		{name: "unknown network", dsn: "u:p@pipe(x)/db", want: "neither tcp nor unix"},
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

func TestRedactOtherForms(t *testing.T) {
	for _, dsn := range []string{"postgres://u:p@h/db", "host=h password=x", "/tmp/x.db", "redis://:pw@h:6379/0", ""} {
		if got := (Driver{}).Redact(dsn); got != dsn {
			t.Errorf("Redact(%q) = %q, want it unchanged", dsn, got)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"collide:collide@tcp(127.0.0.1:3306)/collide", "collide:collide@tcp(127.0.0.1:3306)/collide?parseTime=true&timeout=10s"},
		{"u:p@tcp(db:3306)/app?parseTime=false&timeout=2s", "u:p@tcp(db:3306)/app?timeout=2s"},
		{"mysql://u:p%2Fw@127.0.0.1/app?loc=Local", "u:p/w@tcp(127.0.0.1:3306)/app?loc=Local&parseTime=true&timeout=10s"},
		{"mariadb://u@[::1]:3307/app", "u@tcp([::1]:3307)/app?parseTime=true&timeout=10s"},
		{"u@tcp([::1])/app", "u@tcp([::1]:3306)/app?parseTime=true&timeout=10s"},
	} {
		cfg, err := config(tc.in)
		if err != nil {
			t.Errorf("config(%q): %v", tc.in, err)
			continue
		}
		if got := cfg.FormatDSN(); got != tc.want {
			t.Errorf("config(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := config("not a dsn"); err == nil {
		t.Error("bad DSN: no error")
	}
}
