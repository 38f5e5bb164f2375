// Package testdocker gives tests that need Docker what they share: a check
// that a Docker engine answers (else the test skips, saying why), the
// locally built images (.ci/images.sh) under their tags — missing images
// skip the test outside CI and fail it under CI=true — and a look for
// anything a run left behind.
package testdocker

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Images built by .ci/images.sh, each overridable by its variable.
const (
	EnvDemoImage      = "COLLIDE_TEST_DEMO_IMAGE"      // default collide-demo:test
	EnvToxiproxyImage = "COLLIDE_TEST_TOXIPROXY_IMAGE" // default collide-toxiproxy:test
	EnvPostgresImage  = "COLLIDE_TEST_PG_IMAGE"        // default collide-postgres:test
)

var defaults = map[string]string{
	EnvDemoImage:      "collide-demo:test",
	EnvToxiproxyImage: "collide-toxiproxy:test",
	EnvPostgresImage:  "collide-postgres:test",
}

var (
	infoOnce sync.Once
	infoErr  error
	infoOut  string
)

// Require skips the test unless `docker info` succeeds.
func Require(t testing.TB) {
	t.Helper()
	infoOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
		infoErr, infoOut = err, strings.TrimSpace(string(out))
	})
	if infoErr != nil {
		t.Skipf("testdocker: skipping, no Docker engine (docker info: %v: %s)", infoErr, lastLine(infoOut))
	}
}

// Image returns the tag of one of the test images (EnvDemoImage, …) after
// checking that the engine has it. Missing: skip, or fail under CI.
func Image(t testing.TB, env string) string {
	t.Helper()
	Require(t)
	img := os.Getenv(env)
	if img == "" {
		img = defaults[env]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", img).Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testdocker: image %s is missing under CI: .ci/run must run .ci/images.sh first", img)
		}
		t.Skipf("testdocker: skipping, image %s is missing (build it with .ci/images.sh)", img)
	}
	return img
}

// Leftovers lists the containers (any state) and networks that carry the
// label label=value, e.g. dev.collide.run=<run id>, as "container NAME" and
// "network NAME" lines.
func Leftovers(t testing.TB, label, value string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	filter := "label=" + label + "=" + value
	var out []string
	for _, q := range []struct {
		kind string
		args []string
	}{
		{"container", []string{"ps", "-a", "--filter", filter, "--format", "{{.Names}}"}},
		{"network", []string{"network", "ls", "--filter", filter, "--format", "{{.Name}}"}},
	} {
		args := q.args
		b, err := exec.CommandContext(ctx, "docker", args...).Output()
		if err != nil {
			t.Fatalf("testdocker: docker %s: %v", strings.Join(args, " "), err)
		}
		for _, name := range strings.Fields(string(b)) {
			out = append(out, q.kind+" "+name)
		}
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
