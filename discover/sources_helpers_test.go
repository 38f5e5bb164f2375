package discover_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/collide-dev/collide/discover"
)

// init registers -update unless another test file of the package did
// (package-level flag variables are initialised before init functions).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

// updating reports whether the tests run with -update.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// requestsGolden compares requests, as indented JSON, with the golden file
// path (rewritten under -update).
func requestsGolden(t *testing.T, path string, rs []discover.Request) {
	t.Helper()
	// Bodies as text, not base64, so the golden file reads.
	type view struct {
		discover.Request
		Body string `json:"body,omitempty"`
	}
	views := make([]view, len(rs))
	for i, r := range rs {
		views[i] = view{Request: r, Body: string(r.Body)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(views); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("requests differ from %s (run with -update to accept):\n%s", path, got)
	}
}

// readTestdata reads a file under testdata/.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
