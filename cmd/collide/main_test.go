package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	_ "modernc.org/sqlite"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/report"
)

// collide runs the CLI in-process and returns its exit code, stdout and stderr.
func collide(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func profile(name string) string {
	return filepath.Join("..", "..", "testdata", "profiles", name+".yaml")
}

// TestLatencyOnEachLink: a latency toxic on each link measurably delays the
// requests that cross it, and every toxic and proxy of the run is gone from
// the toxiproxy server afterwards.
func TestLatencyOnEachLink(t *testing.T) {
	srv, err := chaos.StartEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		profile string
		atLeast time.Duration
		env     bool
	}{
		{"target link", "latency-target", 150 * time.Millisecond, false},
		{"database link", "latency-database", 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				t.Setenv("COLLIDE_TEST_DSN", testpg.New(t))
			}
			base := runResult(t, 0, "run", "-q", "-set", "chaos=[]", profile(tc.profile))
			slow := runResult(t, 0, "run", "-q", "-toxiproxy", srv.URL(), profile(tc.profile))
			if p50 := slow.Attack[0].P50; p50 < tc.atLeast {
				t.Fatalf("p50 with %s latency = %v, want ≥ %v", tc.name, p50, tc.atLeast)
			}
			if p50 := base.Attack[0].P50; p50 >= tc.atLeast/2 {
				t.Fatalf("p50 without chaos = %v, want < %v", p50, tc.atLeast/2)
			}
			t.Logf("%s: p50 %v without toxic, %v with %v latency", tc.name, base.Attack[0].P50, slow.Attack[0].P50, tc.atLeast)
			var added, removed int
			for _, e := range slow.Chaos {
				switch e.Action {
				case "added":
					added++
				case "removed":
					removed++
				}
			}
			if added == 0 || added != removed {
				t.Fatalf("timeline: %d added, %d removed: %+v", added, removed, slow.Chaos)
			}
			proxies, err := toxiclient.NewClient(srv.URL()).Proxies()
			if err != nil {
				t.Fatal(err)
			}
			for name := range proxies {
				if strings.Contains(name, slow.RunID) {
					t.Fatalf("proxy %s of the run is still on the server", name)
				}
			}
		})
	}
}

// runResult runs the CLI, checks its exit code and returns the result file.
func runResult(t *testing.T, wantCode int, args ...string) *report.Result {
	t.Helper()
	out := t.TempDir()
	args = append([]string{args[0], "-out", out}, args[1:]...)
	code, stdout, stderr := collide(t, args...)
	if code != wantCode {
		t.Fatalf("collide %v: exit %d, want %d\n%s\n%s", args, code, wantCode, stdout, stderr)
	}
	res, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestUnknownWidensTheBound: with reset_peer on the target link, the counter
// holds more increments than were acknowledged and the bound still passes;
// with more increments than ok + unknown it fails.
func TestUnknownWidensTheBound(t *testing.T) {
	t.Run("more than ok passes", func(t *testing.T) {
		out := t.TempDir()
		code, stdout, stderr := collide(t, "run", "-q", "-out", out, profile("unknown-widens"))
		if code != 0 {
			t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
		}
		res, err := report.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		value := counterValue(t, filepath.Join(out, "demo.db"))
		ok, unknown := res.Totals.OK, res.Totals.Unknown
		if unknown == 0 || value <= ok {
			t.Fatalf("want unknown outcomes that took effect: value=%d ok=%d unknown=%d", value, ok, unknown)
		}
		t.Logf("counter=%d ok=%d unknown=%d: %d increments applied but never acknowledged", value, ok, unknown, value-ok)
	})
	t.Run("more than ok+unknown fails", func(t *testing.T) {
		code, stdout, stderr := collide(t, "run", "-q", "-out", t.TempDir(), profile("unknown-exceeded"))
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
		}
	})
}

func counterValue(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("SELECT value FROM counters WHERE id = 1").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExitCodes: every class of ending has its own exit code and a one-line
// reason.
func TestExitCodes(t *testing.T) {
	t.Setenv("COLLIDE_TEST_SQLITE", filepath.Join(t.TempDir(), "x.db"))
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"malformed profile names file, line and field", []string{"run", profile("malformed")}, 2,
			"malformed.yaml:9: operations[0].rate: invalid rate \"fast\""},
		{"validate reports the same", []string{"validate", profile("malformed")}, 2, "malformed.yaml:9: operations[0].rate"},
		{"unknown override field", []string{"run", "-set", "target.demo.mood=safe", "counter"}, 2, "target.demo.mood"},
		{"remote target refused", []string{"run", profile("remote-target")}, 2, "allow-remote"},
		{"target unreachable", []string{"run", profile("unreachable-target")}, 3, "unreachable"},
		{"unreachable database", []string{"run", "-set", "database.driver=postgres", "-set", "database.dsn=postgres://u:hunter2@127.0.0.1:1/db", "counter"}, 3, "127.0.0.1:1"},
		{"too many unknowns is inconclusive", []string{"run", profile("many-unknown")}, 4, ""},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"no profile", []string{"run"}, 2, "name one profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{tc.args[0], "-q"}, tc.args[1:]...)
			if tc.args[0] != "run" {
				args = tc.args
			} else {
				args = append([]string{"run", "-q", "-out", t.TempDir()}, tc.args[1:]...)
			}
			code, stdout, stderr := collide(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("stderr lacks %q:\n%s", tc.inStderr, stderr)
			}
			if strings.Contains(stdout+stderr, "hunter2") {
				t.Fatalf("password leaked:\n%s\n%s", stdout, stderr)
			}
		})
	}
}
