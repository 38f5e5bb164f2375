package database_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all"
	"github.com/collide-dev/collide/database/sqlite"
)

func TestRegistry(t *testing.T) {
	if got := strings.Join(database.Names(), ","); got != "postgres,sqlite,mysql,redis" {
		t.Errorf("Names() = %s", got)
	}
	for _, name := range database.Names() {
		d, err := database.Lookup(name)
		if err != nil || d.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, d, err)
		}
	}
	_, err := database.Lookup("oracle")
	if err == nil || !strings.Contains(err.Error(), `"oracle"`) || !strings.Contains(err.Error(), "postgres, sqlite, mysql, redis") {
		t.Errorf("Lookup(oracle) = %v, want the known drivers listed", err)
	}
	networked := database.NamesWhere(func(d database.Driver) bool { return !d.Features().InProcess })
	if got := database.Join(networked); got != "postgres, mysql or redis" {
		t.Errorf("networked drivers = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a driver twice did not panic")
		}
	}()
	database.Register(sqlite.Driver{})
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, driver, dsn, want string
	}{
		{name: "unknown driver lists the known ones", driver: "oracle", dsn: "x", want: "known: postgres, sqlite, mysql, redis"},
		{name: "empty dsn", driver: "postgres", dsn: " ", want: "postgres: empty DSN"},
		{name: "mysql dsn that does not parse", driver: "mysql", dsn: "not a dsn", want: "database: mysql: cannot connect to not a dsn"},
		{name: "redis dsn of another scheme", driver: "redis", dsn: "http://x", want: "database: redis: cannot connect to http://x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := database.Open(ctx, tc.driver, tc.dsn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRedactAnyDriver(t *testing.T) {
	for _, tc := range []struct{ name, driver, in, want string }{
		{"postgres url", "", "postgres://u:s3cret@h/db", "postgres://u:REDACTED@h/db"},
		{"postgres key=value", "", "host=h password=s3cret", "host=h password=REDACTED"},
		{"mysql", "", "root:s3cret@tcp(127.0.0.1:3306)/app", "root:REDACTED@tcp(127.0.0.1:3306)/app"},
		{"redis", "", "redis://:s3cret@127.0.0.1:6379/0", "redis://:REDACTED@127.0.0.1:6379/0"},
		{"sqlite path", "", "/tmp/run/collide.db", "/tmp/run/collide.db"},
		{"known driver", "postgres", "postgres://u:s3cret@h/db", "postgres://u:REDACTED@h/db"},
		{"unparseable url", "", "postgres://u:s3%cret@h/db", "postgres://REDACTED@h/db"},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := database.Redact(tc.driver, tc.in); got != tc.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tc.driver, tc.in, got, tc.want)
			}
		})
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
		if got := database.Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"812", int64(812)}, {"-3", int64(-3)}, {"812.000", int64(812)}, {"2.5", 2.5},
		{"1e30", 1e30}, {"99999999999999999999", 1e20},
	} {
		if got := database.NormalizeNumeric(tc.in); got != tc.want {
			t.Errorf("NormalizeNumeric(%q) = %#v (%T), want %#v (%T)", tc.in, got, got, tc.want, tc.want)
		}
	}
	if f, ok := database.NormalizeNumeric("NaN").(float64); !ok || !math.IsNaN(f) {
		t.Errorf("NormalizeNumeric(NaN) = %#v", database.NormalizeNumeric("NaN"))
	}
}

func TestNoNetwork(t *testing.T) {
	d, _ := database.Lookup("sqlite")
	if _, _, err := d.Address("/tmp/x.db"); !errors.Is(err, database.ErrNoNetwork) {
		t.Errorf("sqlite Address err = %v, want ErrNoNetwork", err)
	}
	if _, err := d.Through("/tmp/x.db", "127.0.0.1:1"); !errors.Is(err, database.ErrNoNetwork) {
		t.Errorf("sqlite Through err = %v, want ErrNoNetwork", err)
	}
}
