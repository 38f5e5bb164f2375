package harness

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/report"
)

// TestSinglePacketOnHTTP1Target: sync: single-packet against a target that
// speaks only HTTP/1.1 stops the run with exit 3 and the reason before any
// attack request, with its proxy and toxic gone; with fallback: last-byte
// the run goes on, and the result records the fallback.
func TestSinglePacketOnHTTP1Target(t *testing.T) {
	var attacked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(attacks.OpHeader) != "" {
			attacked.Add(1)
		}
	}))
	defer srv.Close()
	profile := func(out string) string {
		return `
name: single-packet
target:
  url: ` + srv.URL + `
database:
  driver: sqlite
  dsn: ` + filepath.Join(out, "x.db") + `
chaos:
  - {link: target, fault: latency, latency: 1ms}
operations:
  - name: post
    request: {method: POST, url: /}
    burst: {copies: 5, sync: single-packet}
    rate: 10/s
    duration: 1s
invariants:
  - name: anything
    expect: ok("post") >= 0
`
	}
	t.Run("no fallback", func(t *testing.T) {
		api := toxiproxy(t)
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, profile(out)), OutDir: out, ToxiproxyURL: api})
		var ee *EnvError
		if !errors.As(err, &ee) || ExitCode(res.Verdict) != ExitEnv || !strings.Contains(err.Error(), "single-packet needs HTTP/2") {
			t.Fatalf("err = %v, verdict %s: want an environment error (exit 3) saying single-packet needs HTTP/2", err, res.Verdict)
		}
		if n := attacked.Load(); n != 0 {
			t.Fatalf("%d attack requests reached the target", n)
		}
		if r := readResult(t, out); r.Verdict != report.Error || !strings.Contains(r.Error, "fallback") {
			t.Fatalf("result.json verdict %s error %q", r.Verdict, r.Error)
		}
		assertNothingLeft(t, api, res)
	})
	t.Run("fallback: last-byte", func(t *testing.T) {
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, profile(out), "operations[0].burst.fallback=last-byte"), OutDir: out})
		if err != nil || res.Verdict != report.Pass {
			t.Fatalf("err = %v, verdict %s", err, res.Verdict)
		}
		m := readResult(t, out).Attack[0]
		if m.Sync != "last-byte" || !strings.Contains(m.SyncNote, "fell back to last-byte") || m.Bursts != 10 || attacked.Load() != 50 {
			t.Fatalf("sync %q note %q, %d bursts, %d requests; want last-byte, a fallback note, 10 bursts of 5", m.Sync, m.SyncNote, m.Bursts, attacked.Load())
		}
	})
}

// TestRefusedTargetExitCode: a run the profile's target makes collide
// refuse (not loopback, no allow_remote) is a usage error, exit 2, in the
// returned result and in result.json alike.
func TestRefusedTargetExitCode(t *testing.T) {
	out := t.TempDir()
	p := parse(t, `
name: remote
target:
  url: http://192.0.2.10:8080
database:
  driver: sqlite
  dsn: `+filepath.Join(out, "x.db")+`
operations:
  - name: get
    request: {method: GET, url: /}
    rate: 10/s
    duration: 1s
invariants:
  - name: anything
    expect: ok("get") >= 0
`)
	res, err := Run(context.Background(), Options{Profile: p, OutDir: out})
	var pe *ProfileError
	if !errors.As(err, &pe) || ErrorExitCode(err) != ExitUsage {
		t.Fatalf("err = %v, want a profile error (exit 2)", err)
	}
	if res.ExitCode != ExitUsage || readResult(t, out).ExitCode != ExitUsage || !strings.Contains(report.VerdictLine(res), "exit 2") {
		t.Fatalf("exit code %d, result.json %d, verdict line %q: want 2 everywhere", res.ExitCode, readResult(t, out).ExitCode, report.VerdictLine(res))
	}
}

// TestOverridesRedacted: secrets given with --set — a DSN's password, an
// Authorization header, a URL's password — reach neither result.json nor
// a report's replay command.
func TestOverridesRedacted(t *testing.T) {
	for _, tc := range []struct{ set, secret, keep string }{
		{"database.dsn=postgres://u:hunter2@127.0.0.1:5432/db", "hunter2", "database.dsn=postgres://u:"},
		{"operations[0].request.headers.Authorization=Bearer s3cr3t-t0ken", "s3cr3t-t0ken", "operations[0].request.headers.Authorization=REDACTED"},
		{"target.url=http://u:pw-123456@127.0.0.1:9", "pw-123456", "target.url=http://u:"},
		{"operations[0].rate=50/s", "", "operations[0].rate=50/s"},
	} {
		got := redactOverrides([]string{tc.set})[0]
		if tc.secret != "" && strings.Contains(got, tc.secret) || !strings.HasPrefix(got, tc.keep) {
			t.Errorf("redactOverrides(%q) = %q", tc.set, got)
		}
	}
}
