package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBadProfiles runs `collide validate` on every malformed profile in
// testdata/bad-profiles: each must exit 2 with exactly its golden one-line
// error naming file, line and field. The run-* cases are profiles the loader
// accepts but the run rejects (unknown fault or checker, bad template,
// expression that does not compile …).
func TestBadProfiles(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "bad-profiles")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d bad profiles", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"validate"}
			for _, line := range strings.Split(string(data), "\n") {
				switch {
				case strings.HasPrefix(line, "# set:"):
					args = append(args, "-set", strings.TrimSpace(strings.TrimPrefix(line, "# set:")))
				case strings.HasPrefix(line, "# env: "):
					k, v, _ := strings.Cut(strings.TrimPrefix(line, "# env: "), "=")
					t.Setenv(k, v)
				case strings.HasPrefix(line, "# unset: "):
					k := strings.TrimPrefix(line, "# unset: ")
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			code, _, stderr := collide(t, append(args, f)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			got := strings.TrimPrefix(strings.TrimSpace(stderr), dir+string(filepath.Separator))
			if strings.Contains(got, "\n") {
				t.Fatalf("error is not one line:\n%s", got)
			}
			golden := filepath.Join(dir, name+".golden")
			if *update && strings.HasPrefix(name, "run-") {
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/collide -run TestBadProfiles -update)", err)
			}
			if got != strings.TrimSpace(string(want)) {
				t.Fatalf("got  %s\nwant %s", got, strings.TrimSpace(string(want)))
			}
		})
	}
}
