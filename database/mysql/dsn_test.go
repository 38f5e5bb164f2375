package mysql

import (
	"testing"
)

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
