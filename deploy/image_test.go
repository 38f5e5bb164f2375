package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/coordinate"
	"github.com/collide-dev/collide/internal/testdocker"
)

// EnvImage names the image under test; default collide:local. With
// COLLIDE_IMAGE_REBUILD=1 the test runs deploy/image.sh even when the image
// exists (it rebuilds only when the binary changed).
const EnvImage = "COLLIDE_IMAGE"

// image returns the collide image, built by image.sh when it is missing.
func image(t *testing.T) string {
	t.Helper()
	testdocker.Require(t)
	img := os.Getenv(EnvImage)
	if img == "" {
		img = "collide:local"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if os.Getenv("COLLIDE_IMAGE_REBUILD") != "1" && exec.CommandContext(ctx, "docker", "image", "inspect", img).Run() == nil {
		return img
	}
	out, err := exec.CommandContext(ctx, "./image.sh", img).CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/image.sh %s: %v\n%s", img, err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	return img
}

// docker runs a docker command bounded by timeout and returns its output.
func docker(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestImageRunsCollide(t *testing.T) {
	img := image(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"version", []string{"version"}, "collide "},
		{"list", []string{"list"}, "counter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--rm", "--network", "none", "--read-only", img}, tc.args...)
			if out := docker(t, time.Minute, args...); !strings.Contains(out, tc.want) {
				t.Fatalf("collide %s in %s: %q, want %q", tc.args[0], img, out, tc.want)
			}
		})
	}
}

// TestImageServesCoordinator runs the coordinator as the Kubernetes example
// does (listening on every interface, results below /tmp) and takes one
// shard through start, clock, upload and status from the host.
func TestImageServesCoordinator(t *testing.T) {
	img := image(t)
	name := "collide-coordinator-test-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	docker(t, time.Minute, "run", "-d", "--rm", "--name", name, "-p", "127.0.0.1::7070", img,
		"coordinate", "--listen", "0.0.0.0:7070", "--allow-remote", "--shards", "1", "--start-delay", "2s", "--results", "/tmp/results")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "rm", "-f", name).Run()
	})
	port := docker(t, 30*time.Second, "port", name, "7070/tcp")
	c := &coordinate.Client{URL: "http://" + strings.Split(port, "\n")[0]}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for range 100 { // until the container listens
		if _, err = c.Status(ctx); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("coordinator in %s: %v", img, err)
	}
	start, _, err := c.Start(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	offset, bound, err := c.Measure(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	// One kernel, one clock: the offset is zero within the bound.
	if offset.Abs() > bound {
		t.Fatalf("offset %s beyond bound %s against a container of the same host", offset, bound)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "result.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, 0, dir); err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(ctx, 100*time.Millisecond)
	if err != nil || !st.Done || st.StartAt == nil || !st.StartAt.Equal(start) {
		t.Fatalf("status %+v, %v", st, err)
	}
	t.Logf("start %s, offset %s ± %s", start.Format(time.RFC3339Nano), offset, bound)
}
