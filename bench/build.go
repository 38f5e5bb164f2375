package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// VegetaPkg is the vegeta CLI, built from the module version collide's
// go.mod requires, so that the CLI and collide share one vegeta/lib.
const VegetaPkg = "github.com/tsenart/vegeta/v12"

// ModuleRoot returns the folder holding collide's go.mod, walking up from
// the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/collide-dev/collide\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no collide go.mod above the working directory")
		}
		dir = parent
	}
}

// BuildCollide builds ./cmd/collide into out.
func BuildCollide(root, out string) error {
	return goCmd(root, nil, "build", "-o", out, "./cmd/collide")
}

// BuildVegeta builds the vegeta CLI into out from the vegeta version in
// collide's go.mod. collide imports only vegeta/lib, so go.sum may lack the
// CLI's own dependencies; then the build runs again with GOFLAGS=-mod=mod on
// a temporary copy of go.mod and go.sum (-modfile), leaving the module's
// files untouched. The note says which way it was built.
func BuildVegeta(root, out string) (note string, err error) {
	err = goCmd(root, nil, "build", "-o", out, VegetaPkg)
	if err == nil {
		return "go build " + VegetaPkg, nil
	}
	if !strings.Contains(err.Error(), "missing go.sum entry") {
		return "", err
	}
	tmp, terr := os.MkdirTemp("", "collide-vegeta-mod-")
	if terr != nil {
		return "", terr
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"go.mod", "go.sum"} {
		b, rerr := os.ReadFile(filepath.Join(root, f))
		if rerr != nil {
			return "", rerr
		}
		if werr := os.WriteFile(filepath.Join(tmp, f), b, 0o644); werr != nil {
			return "", werr
		}
	}
	modfile := filepath.Join(tmp, "go.mod")
	if err2 := goCmd(root, []string{"GOFLAGS=-mod=mod"}, "build", "-modfile", modfile, "-o", out, VegetaPkg); err2 != nil {
		return "", fmt.Errorf("%v\nand with a temporary -modfile: %v", err, err2)
	}
	return "GOFLAGS=-mod=mod go build -modfile <temporary copy of go.mod> " + VegetaPkg +
		" (go.sum lacks the CLI's dependencies; `go get -tool " + VegetaPkg + "@<version in go.mod>` would record them)", nil
}

func goCmd(dir string, env []string, args ...string) error {
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	cmd := exec.Command(gobin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
