//go:build unix

package stacks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the service: TestHelperService acts out a mode
// when STACKS_HELPER is set, and is a no-op otherwise.
func helperArgs(mode string, args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^TestHelperService$", "--", mode}, args...)
}

func helperEnv() map[string]string { return map[string]string{"STACKS_HELPER": "1"} }

func TestHelperService(t *testing.T) {
	if os.Getenv("STACKS_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	args = args[1:]
	mode := args[0]
	switch mode {
	case "fail":
		fmt.Println("starting up")
		fmt.Fprintln(os.Stderr, "fatal: config file /etc/shop.toml not found")
		os.Exit(3)
	case "sleep": // a grandchild that ignores SIGTERM
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	addr := args[1]
	status := http.StatusOK
	switch mode {
	case "unhealthy":
		status = http.StatusServiceUnavailable
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		child := exec.Command(os.Args[0], "-test.run=^TestHelperService$", "--", "sleep")
		child.Env = os.Environ()
		if err := child.Start(); err != nil {
			panic(err)
		}
		if err := os.WriteFile(args[2], []byte(strconv.Itoa(child.Process.Pid)), 0o644); err != nil {
			panic(err)
		}
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
	fmt.Println("listening on", addr)
	err := http.ListenAndServe(addr, nil)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func needUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are Unix-only")
	}
}

func startHelper(t *testing.T, mode string, timeout time.Duration, extra ...string) (*Command, string, error) {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logPath := filepath.Join(t.TempDir(), "service.log")
	c, err := StartCommand(context.Background(), CommandConfig{
		Args: helperArgs(mode, append([]string{addr}, extra...)...), Env: helperEnv(),
		URL: "http://" + addr, Health: "/healthz", HealthTimeout: timeout, LogPath: logPath,
		StopGrace: 300 * time.Millisecond,
	})
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, logPath, err
}

// endedBy returns the signal that ended the (closed) service, or -1 when
// it exited without one.
func endedBy(t *testing.T, c *Command) syscall.Signal {
	t.Helper()
	exited, err := c.Exited()
	if !exited {
		t.Fatal("the service has not exited after Close")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the service's end: %v, want an exit status", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return -1
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

func TestCommandHealthyThenStopped(t *testing.T) {
	needUnix(t)
	c, logPath, err := startHelper(t, "serve", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(c.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pid := c.PID()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The service exits on SIGTERM: it must have ended by that signal, not
	// by the SIGKILL that follows the grace period.
	if sig := endedBy(t, c); sig != syscall.SIGTERM {
		t.Errorf("the service ended by %v, want SIGTERM (it exits on SIGTERM at once)", sig)
	}
	if alive(pid) {
		t.Fatalf("pid %d still alive after Close", pid)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "listening on") {
		t.Fatalf("service log lacks the service's output: %q", b)
	}
}

func TestCommandExitsEarly(t *testing.T) {
	needUnix(t)
	_, logPath, err := startHelper(t, "fail", 20*time.Second)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{"exited before it was healthy", "exit status 3", logPath, "config file /etc/shop.toml not found"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
}

func TestCommandNeverHealthy(t *testing.T) {
	needUnix(t)
	start := time.Now()
	// 4 s, not 1: on a loaded machine the helper process may not even be
	// listening after 1 s, and the error then says "connection refused"
	// instead of the 503 this test is about.
	_, logPath, err := startHelper(t, "unhealthy", 4*time.Second)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"not healthy after 4s", "503", logPath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if took := time.Since(start); took < 4*time.Second {
		t.Errorf("took %v, want at least the 4s health timeout", took)
	}
}

// TestCommandStubbornGroup: a service that ignores SIGTERM and has forked a
// worker that ignores it too is SIGKILLed, worker included, after the grace.
func TestCommandStubbornGroup(t *testing.T) {
	needUnix(t)
	pidFile := filepath.Join(t.TempDir(), "worker.pid")
	c, _, err := startHelper(t, "stubborn", 20*time.Second, pidFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	worker, _ := strconv.Atoi(string(b))
	leader := c.PID()
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Close took %v, less than the 300ms grace", took)
	}
	if sig := endedBy(t, c); sig != syscall.SIGKILL {
		t.Errorf("the service ended by %v, want SIGKILL after the grace", sig)
	}
	for _, pid := range []int{leader, worker} {
		if alive(pid) {
			t.Errorf("pid %d survived Close", pid)
		}
	}
}

func TestCommandCanceled(t *testing.T) {
	needUnix(t)
	ctx, cancel := context.WithCancel(context.Background())
	port, _ := FreePort()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err := StartCommand(ctx, CommandConfig{
		Args: helperArgs("unhealthy", addr), Env: helperEnv(), URL: "http://" + addr, Health: "/healthz",
		HealthTimeout: 20 * time.Second, LogPath: filepath.Join(t.TempDir(), "service.log"), StopGrace: 300 * time.Millisecond,
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestStartCommandNoProgram(t *testing.T) {
	_, err := StartCommand(context.Background(), CommandConfig{Args: []string{"/nonexistent/collide-service"},
		URL: "http://127.0.0.1:1", LogPath: filepath.Join(t.TempDir(), "service.log"), HealthTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/collide-service") {
		t.Fatalf("err = %v", err)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"port": "4242", "database_dsn": "postgres://u@h:1/db"}
	got, err := Expand("--listen 127.0.0.1:{{port}} --db {{ database_dsn }}", vars)
	if err != nil || got != "--listen 127.0.0.1:4242 --db postgres://u@h:1/db" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := Expand("{{prot}}", vars); err == nil || !strings.Contains(err.Error(), `unknown placeholder {{prot}} (want {{database_dsn}} or {{port}})`) {
		t.Fatalf("err = %v", err)
	}
	if got, err := Expand("no placeholders {", vars); err != nil || got != "no placeholders {" {
		t.Fatalf("got %q, %v", got, err)
	}
}
