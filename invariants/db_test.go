package invariants

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://collide:s3cret@127.0.0.1:5432/collide?sslmode=disable", "postgres://collide:REDACTED@127.0.0.1:5432/collide?sslmode=disable"},
		{"postgresql://u:p%40ss@db.local/app", "postgresql://u:REDACTED@db.local/app"},
		{"postgres://u@127.0.0.1/app?password=s3cret&sslmode=disable", "postgres://u@127.0.0.1/app?password=REDACTED&sslmode=disable"},
		{"postgres://u@127.0.0.1/app?sslmode=disable", "postgres://u@127.0.0.1/app?sslmode=disable"},
		{"host=127.0.0.1 user=collide password=s3cret dbname=collide", "host=127.0.0.1 user=collide password=REDACTED dbname=collide"},
		{"host=127.0.0.1 password = 'a b\\'c' dbname=x", "host=127.0.0.1 password = REDACTED dbname=x"},
		{"PASSWORD=s3cret host=x", "PASSWORD=REDACTED host=x"},
		{"root:s3cret@tcp(127.0.0.1:3306)/app", "root:REDACTED@tcp(127.0.0.1:3306)/app"},
		{"/tmp/run/collide.db", "/tmp/run/collide.db"},
		{"file:/tmp/run/collide.db?mode=ro&_pragma=busy_timeout(5000)", "file:/tmp/run/collide.db?mode=ro&_pragma=busy_timeout(5000)"},
		{"collide.db", "collide.db"},
		{"", ""},
	} {
		if got := RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDSNPasswords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@h/db", "s3cret"},
		{"postgres://u@h/db?password=s3cret", "s3cret"},
		{"host=h password='a b\\'c'", "a b'c"},
		{"/tmp/x.db", ""},
	} {
		if got := strings.Join(dsnPasswords(tc.in), ","); got != tc.want {
			t.Errorf("dsnPasswords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSQLiteConnString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/tmp/x.db", "/tmp/x.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"file:/tmp/x.db", "file:/tmp/x.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"file:/tmp/x.db?_pragma=foreign_keys(1)", "file:/tmp/x.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"file:/tmp/x.db?_pragma=busy_timeout(500)", "file:/tmp/x.db?_pragma=busy_timeout(500)&_pragma=journal_mode(WAL)"},
		{"file:/tmp/x.db?mode=ro", "file:/tmp/x.db?mode=ro&_pragma=busy_timeout(10000)"},
		{":memory:", ":memory:?_pragma=busy_timeout(10000)"},
	} {
		if got := sqliteConnString(tc.in); got != tc.want {
			t.Errorf("sqliteConnString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in, want any
	}{
		{nil, nil}, {int64(3), int64(3)}, {int32(3), int64(3)}, {3, int64(3)}, {uint8(7), int64(7)},
		{float32(1.5), 1.5}, {[]byte("ab"), "ab"}, {"ab", "ab"}, {true, true}, {ts, ts},
	} {
		if got := normalize(tc.in); got != tc.want {
			t.Errorf("normalize(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"812", int64(812)}, {"-3", int64(-3)}, {"812.000", int64(812)}, {"2.5", 2.5},
		{"1e30", 1e30}, {"99999999999999999999", 1e20},
	} {
		if got := normalizeNumeric(tc.in); got != tc.want {
			t.Errorf("normalizeNumeric(%q) = %#v (%T), want %#v (%T)", tc.in, got, got, tc.want, tc.want)
		}
	}
}

func TestNormalizeNumericNaN(t *testing.T) {
	if f, ok := normalizeNumeric("NaN").(float64); !ok || !math.IsNaN(f) {
		t.Errorf("normalizeNumeric(NaN) = %#v", normalizeNumeric("NaN"))
	}
}

func TestDrivers(t *testing.T) {
	if got := strings.Join(Drivers(), ","); got != "mysql,postgres,redis,sqlite" {
		t.Errorf("Drivers() = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a driver twice did not panic")
		}
	}()
	RegisterDriver("sqlite", openSQLite)
}
