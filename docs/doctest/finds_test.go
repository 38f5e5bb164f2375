package doctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocCommandsFindDocErrors: the doc-test fails a document whose
// commands use a file it never made, exit 2, or exit with another code
// than its comment gives; it passes the good commands and counts, not
// runs, a marked one.
func TestDocCommandsFindDocErrors(t *testing.T) {
	root := repoRoot(t)
	text, err := os.ReadFile(filepath.Join("testdata", "broken.md"))
	if err != nil {
		t.Fatal(err)
	}
	ran, skipped, problems := runDocument(t, root, "broken.md", text, buildEnv(t, root))
	if ran != 4 || skipped != 1 {
		t.Errorf("ran %d, skipped %d; want 4 and 1", ran, skipped)
	}
	want := []string{
		"broken.md:11: doc error: collide validate missing.yaml: exit 2:",
		"broken.md:12: doc error: collide run -nosuchflag counter: exit 2:",
		"broken.md:13: collide list: exit 0, the docs give [1]:",
	}
	if len(problems) != len(want) {
		t.Fatalf("problems:\n%s\nwant %d", strings.Join(problems, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i], w) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, problems[i], w)
		}
	}
}
