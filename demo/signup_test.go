package demo

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all" // the drivers the backends name
)

// TestSignupCutBetweenSteps: the compound operation with the database
// connection cut right after each connection's first member INSERT, by
// collide's SQL tap (PostgreSQL, MariaDB), and with no cut (SQLite, which
// has no link). Racy: the cut signups answer 500 and leave a member without
// a profile. Safe: they leave nothing. Uncut, both modes write a member and
// its profile per 201.
func TestSignupCutBetweenSteps(t *testing.T) {
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				dsn := b.dsn(t)
				drv, err := database.Lookup(b.driver)
				if err != nil {
					t.Fatal(err)
				}
				cut := drv.Features().Wire != ""
				if cut {
					proto, err := tap.ProtocolNamed(drv.Features().Wire)
					if err != nil {
						t.Fatal(err)
					}
					_, up, err := drv.Address(dsn)
					if err != nil {
						t.Fatal(err)
					}
					tp, err := tap.Start(context.Background(), tap.Config{Upstream: up, Protocol: proto,
						Cut: &tap.Cut{After: 1, Match: regexp.MustCompile(`(?i)^\s*insert into members`), Scope: tap.PerConn, Every: true}})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { tp.Close() })
					if dsn, err = drv.Through(dsn, tp.Addr()); err != nil {
						t.Fatal(err)
					}
				}
				s, srv := serveDSN(t, Config{Mode: mode, Driver: b.driver, DSN: dsn, MaxConns: 2})
				env := &classEnv{s: s, srv: srv, mode: mode}
				created := 0
				for i := range 6 {
					r := env.call(http.MethodPost, "/signup", fmt.Sprintf(`{"name": "m%d"}`, i))
					switch {
					case r.status == http.StatusCreated:
						created++
					case cut && r.status == http.StatusInternalServerError:
					default:
						t.Fatalf("signup %d: status %d, err %v, body %s", i, r.status, r.err, r.body)
					}
				}
				var members, orphans int
				ctx := context.Background()
				if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM members`).Scan(&members); err != nil {
					t.Fatal(err)
				}
				if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM members m
					LEFT JOIN member_profiles p ON p.member_id = m.id WHERE p.id IS NULL`).Scan(&orphans); err != nil {
					t.Fatal(err)
				}
				switch {
				case !cut && (created != 6 || members != 6 || orphans != 0):
					t.Errorf("uncut: %d created, %d members, %d orphans; want 6, 6, 0", created, members, orphans)
				case cut && created == 6:
					t.Errorf("no signup was cut")
				case cut && mode == modeRacy && (orphans == 0 || members != created+orphans):
					t.Errorf("racy: %d created, %d members, %d orphans; want orphans ≥ 1 and members = created + orphans", created, members, orphans)
				case cut && mode == modeSafe && (orphans != 0 || members != created):
					t.Errorf("safe: %d created, %d members, %d orphans; want members = created, no orphan", created, members, orphans)
				}
			})
		}
	}
}
