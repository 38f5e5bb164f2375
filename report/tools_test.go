package report

import (
	"os"
	"os/exec"
	"testing"
)

// requireTool returns the path of an external program a test needs. Where it
// is missing the test is skipped with the reason, except under CI=true,
// where a missing tool is a failure: CI must install it (.ci/run).
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed: CI must install the Debian package %s (apt-get install -y %s)", name, debianPackage, debianPackage)
	}
	t.Skipf("skipped: %s is not installed (apt-get install -y %s)", name, debianPackage)
	return ""
}
