package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/collide-dev/collide/profiles"
)

const workflowPath = "../../.github/workflows/nightly.yml"

// TestNightlyWorkflowCommands runs what .github/workflows/nightly.yml runs,
// on two real nights made in-process: the safe counter ("previous") then the
// racy one ("tonight"). The comparison must show pass → fail as a regression
// and -fail-on-regression must exit non-zero; the reports must be written.
func TestNightlyWorkflowCommands(t *testing.T) {
	root := t.TempDir()
	previous, tonight := filepath.Join(root, "previous"), filepath.Join(root, "runs", "2026-11-22")
	for _, night := range []struct {
		dir, mode string
		code      int
	}{{previous, "safe", 0}, {tonight, "racy", 1}} {
		code, stdout, stderr := collide(t, "run", "-q", "-format", "none", "-set", "target.demo.mode="+night.mode, "-out", filepath.Join(night.dir, "counter"), "counter")
		if code != night.code {
			t.Fatalf("run %s: exit %d, want %d\n%s\n%s", night.mode, code, night.code, stdout, stderr)
		}
	}

	t.Run("job summary", func(t *testing.T) {
		code, stdout, stderr := collide(t, "report", "-format", "markdown", tonight)
		if code != 0 || !strings.Contains(stdout, "### ❌ FAIL · counter") || !strings.Contains(stdout, "#### Invariants") {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	t.Run("junit", func(t *testing.T) {
		junit := filepath.Join(tonight, "junit.xml")
		if code, _, stderr := collide(t, "report", "-format", "junit", "-o", junit, tonight); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(junit)
		if err != nil || !bytes.Contains(b, []byte(`failures="1"`)) {
			t.Fatalf("junit.xml: %v\n%s", err, b)
		}
		xmllint := requireTool(t, "xmllint", "libxml2-utils")
		if out, err := exec.Command(xmllint, "--noout", "--schema", "../../report/testdata/junit.xsd", junit).CombinedOutput(); err != nil {
			t.Fatalf("junit.xml does not validate: %v\n%s", err, out)
		}
	})
	t.Run("html", func(t *testing.T) {
		page := filepath.Join(tonight, "counter", "report.html")
		if code, _, stderr := collide(t, "report", "-format", "html", "-o", page, filepath.Join(tonight, "counter")+"/"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(page)
		if err != nil || !bytes.Contains(b, []byte(`<svg id="latency-chart"`)) {
			t.Fatalf("report.html: %v", err)
		}
	})
	// The test stands in for a regressed build by flipping the demo's mode
	// with an override, which changes the profile's hash; the workflow
	// compares nights of one profile. So compare refuses without -force.
	t.Run("compare refuses different profiles", func(t *testing.T) {
		code, stdout, stderr := collide(t, "compare", "-fail-on-regression", "-format", "markdown", previous, tonight)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "-force") {
			t.Fatalf("exit %d, want 2 and one line naming -force\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("compare fails on the regression", func(t *testing.T) {
		code, stdout, stderr := collide(t, "compare", "-force", "-fail-on-regression", "-format", "markdown", previous, tonight)
		if code == 0 || code != exitRegression {
			t.Fatalf("exit %d, want %d\n%s\n%s", code, exitRegression, stdout, stderr)
		}
		for _, want := range []string{"| verdict ", "| PASS ", "**FAIL** ⚠️", "verdict PASS → FAIL",
			`invariant "every acknowledged increment is counted exactly once" PASS → FAIL`} {
			if !strings.Contains(stdout, want) {
				t.Errorf("compare lacks %q:\n%s", want, stdout)
			}
		}
	})
	t.Run("compare table", func(t *testing.T) {
		code, stdout, _ := collide(t, "compare", "-force", previous, tonight)
		if code != 0 || !regexp.MustCompile(`│ verdict +│ PASS +│ FAIL ⚠ +│`).MatchString(stdout) {
			t.Fatalf("exit %d:\n%s", code, stdout)
		}
	})
	t.Run("history", func(t *testing.T) {
		code, stdout, stderr := collide(t, "history", root)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		pass, fail := strings.Index(stdout, "PASS"), strings.Index(stdout, "FAIL")
		if pass < 0 || fail < 0 || pass > fail {
			t.Fatalf("want the safe (older, PASS) run before the racy one:\n%s", stdout)
		}
	})
}

// TestNightlyWorkflowProfileList runs the workflow's own awk program over
// `collide list` and expects every built-in profile's name.
func TestNightlyWorkflowProfileList(t *testing.T) {
	wf, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`bin/collide list \| awk -F '│' '([^']+)'`).FindSubmatch(wf)
	if m == nil {
		t.Fatal("the workflow no longer lists profiles with awk: update this test")
	}
	awk := requireTool(t, "awk", "mawk")
	_, list, _ := collide(t, "list")
	cmd := exec.Command(awk, "-F", "│", string(m[1]))
	cmd.Stdin = strings.NewReader(list)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, b := range profiles.Builtins() {
		want = append(want, b.Name)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("workflow finds profiles %q, want %q", got, want)
	}
}

// TestNightlyWorkflowFlags: every flag the workflow passes to collide exists.
func TestNightlyWorkflowFlags(t *testing.T) {
	wf, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	calls := regexp.MustCompile(`bin/collide ([a-z]+)([^\n|>]*)`).FindAllSubmatch(wf, -1)
	if len(calls) < 5 {
		t.Fatalf("found %d collide calls in the workflow", len(calls))
	}
	for _, c := range calls {
		sub := string(c[1])
		var usage bytes.Buffer
		dispatch(context.Background(), []string{sub, "-h"}, &usage, &usage)
		if strings.Contains(usage.String(), "unknown command") {
			t.Errorf("workflow calls unknown command %q", sub)
			continue
		}
		for _, tok := range strings.Fields(string(c[2])) {
			if !strings.HasPrefix(tok, "-") {
				continue
			}
			name := strings.TrimLeft(strings.SplitN(tok, "=", 2)[0], "-")
			if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(name) + `[\s]`).MatchString(usage.String()) {
				t.Errorf("workflow passes %s to collide %s, which has no such flag:\n%s", tok, sub, usage.String())
			}
		}
	}
}

// requireTool returns the path of an external program a test needs; where it
// is missing the test is skipped with the reason, except under CI=true,
// where CI must install it.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed: CI must install the Debian package %s", name, debianPackage)
	}
	t.Skipf("skipped: %s is not installed (apt-get install -y %s)", name, debianPackage)
	return ""
}
