package stacks

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/collide-dev/collide/internal/testdocker"
)

func init() {
	// No reaper container: every test removes what it started (Close).
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
}

func newDocker(t *testing.T) (*Docker, string, string) {
	t.Helper()
	runID := fmt.Sprintf("test-%d", time.Now().UnixNano()%1e9)
	dir := t.TempDir()
	d, err := NewDocker(context.Background(), runID, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if left := testdocker.Leftovers(t, LabelRun, runID); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	return d, runID, dir
}

// TestDockerDatabaseAndToxiproxy: the database answers on its 127.0.0.1 DSN,
// Toxiproxy's API answers, and Close leaves no container nor network.
func TestDockerDatabaseAndToxiproxy(t *testing.T) {
	pgImage := testdocker.Image(t, testdocker.EnvPostgresImage)
	tpImage := testdocker.Image(t, testdocker.EnvToxiproxyImage)
	d, _, dir := newDocker(t)
	ctx := context.Background()
	start := time.Now()
	pg, err := d.StartPostgres(ctx, PostgresConfig{Image: pgImage, User: "shop", Password: "s3cret", Database: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres ready in %v: %s", time.Since(start), pg.HostDSN)
	if !strings.HasPrefix(pg.HostDSN, "postgres://shop:s3cret@127.0.0.1:") || pg.NetAddr != "database:5432" ||
		pg.NetDSN != "postgres://shop:s3cret@database:5432/orders?sslmode=disable" {
		t.Fatalf("DSNs: %+v", pg)
	}
	db, err := sql.Open("pgx", pg.HostDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil || name != "orders" {
		t.Fatalf("current_database = %q, %v", name, err)
	}
	start = time.Now()
	tp, err := d.StartToxiproxy(ctx, tpImage)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("toxiproxy ready in %v: %s", time.Since(start), tp.APIURL)
	resp, err := http.Get(tp.APIURL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/version: %s %s", resp.Status, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "docker.log")); err != nil {
		t.Errorf("docker.log: %v", err)
	}
}

// TestServiceContainerExitsEarly: a service that dies at start-up is an
// error naming service.log and quoting its end.
func TestServiceContainerExitsEarly(t *testing.T) {
	img := testdocker.Image(t, testdocker.EnvDemoImage)
	d, _, dir := newDocker(t)
	_, err := d.StartService(context.Background(), ServiceConfig{
		Image: img, Port: 8080, Health: "/healthz", HealthTimeout: 30 * time.Second,
		Cmd: []string{"demo", "-listen", "0.0.0.0:8080", "-allow-remote", "-db", "postgres", "-dsn", "postgres://u:p@database:1/x?connect_timeout=1"},
	})
	if err == nil {
		t.Fatal("want an error")
	}
	t.Logf("error: %v", err)
	logPath := filepath.Join(dir, "service.log")
	for _, want := range []string{"exited", logPath, "collide demo:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestServiceContainerFromDockerfile: build: builds the image, the service
// answers on its published 127.0.0.1 port, and Close removes the built
// image too.
func TestServiceContainerFromDockerfile(t *testing.T) {
	img := testdocker.Image(t, testdocker.EnvDemoImage)
	d, runID, _ := newDocker(t)
	svc, err := d.StartService(context.Background(), ServiceConfig{
		BuildContext: "testdata/service", Dockerfile: "Dockerfile", BuildArgs: map[string]string{"BASE": img},
		Port: 9090, Health: "/healthz", HealthTimeout: 30 * time.Second,
		Cmd: []string{"demo", "-listen", "0.0.0.0:9090", "-allow-remote", "-db", "sqlite", "-dsn", "/tmp-demo.db"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if svc.NetAddr != "service:9090" || !strings.HasPrefix(svc.HostURL, "http://127.0.0.1:") {
		t.Fatalf("addresses: %+v", svc)
	}
	resp, err := http.Get(svc.HostURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	built := "collide-service:" + strings.ToLower(runID)
	if err := exec.Command("docker", "image", "inspect", built).Run(); err == nil {
		t.Errorf("built image %s still exists after Close", built)
	}
}

// TestSweepOrphans: what a collide process left behind when it died is
// removed by the next stack; what a live process owns is not.
func TestSweepOrphans(t *testing.T) {
	img := testdocker.Image(t, testdocker.EnvToxiproxyImage)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	run := fmt.Sprintf("sweep-%d", time.Now().UnixNano()%1e9)
	labels := func(pid int) []string {
		return []string{"--label", LabelRun + "=" + run, "--label", LabelHost + "=" + host, "--label", LabelPID + "=" + fmt.Sprint(pid)}
	}
	docker := func(args ...string) string {
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	docker(append(append([]string{"network", "create"}, labels(dead.Process.Pid)...), run+"-net")...)
	docker(append(append([]string{"create", "--name", run + "-dead"}, labels(dead.Process.Pid)...), img)...)
	alive := docker(append(append([]string{"create", "--name", run + "-alive"}, labels(os.Getppid())...), img)...)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", alive).Run() })

	n, err := SweepOrphans(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	left := testdocker.Leftovers(t, LabelRun, run)
	if len(left) != 1 || left[0] != "container "+run+"-alive" {
		t.Fatalf("after the sweep (%d removed): %v, want only the live process's container", n, left)
	}
}
