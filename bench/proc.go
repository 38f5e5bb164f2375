package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/collide-dev/collide/database/sqlite"
)

// clockTick is the unit of utime/stime in /proc/PID/stat (USER_HZ, 100 on
// every Linux build Go supports).
const clockTick = 10 * time.Millisecond

// Demo is `collide demo` running as its own process on a loopback port: the
// one server every load generator of a comparison talks to.
type Demo struct {
	URL  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// StartDemo starts `collide demo` (safe mode, SQLite in dir) on a free
// loopback port and waits until GET /healthz answers 200, for at most 20 s.
func StartDemo(ctx context.Context, collide, dir string) (*Demo, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	d := &Demo{URL: "http://" + addr, log: &bytes.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(collide, "demo", "-mode", "safe", "-db", sqlite.Name, "-dsn", filepath.Join(dir, "demo.db"), "-listen", addr)
	d.cmd.Stdout, d.cmd.Stderr = &lockedWriter{w: d.log}, &lockedWriter{w: d.log}
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d, nil
			}
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("demo exited: %s", d.log.String())
		case <-ctx.Done():
			d.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.Stop()
			return nil, fmt.Errorf("demo not healthy within 20s: %v; log: %s", err, d.log.String())
		}
	}
}

// PID is the demo's process id.
func (d *Demo) PID() int { return d.cmd.Process.Pid }

// CPU is the user+system time the demo process has used so far.
func (d *Demo) CPU() time.Duration { return procCPU(d.PID()) }

// Stop interrupts the demo and kills it if it has not exited after 5 s.
func (d *Demo) Stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// procCPU reads utime+stime of pid from /proc/PID/stat (0 if unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// procRSSKB reads VmRSS and VmHWM of pid in KB.
func procRSSKB(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm
}

// Sample is one observation of a running process.
type Sample struct {
	At    time.Duration `json:"at"`
	RSSKB int64         `json:"rss_kb"`
	HWMKB int64         `json:"hwm_kb"`
	// Extra is what the caller's probe returned (e.g. history bytes written).
	Extra int64 `json:"extra,omitempty"`
}

// Measured is what Measure observed of one process.
type Measured struct {
	Wall     time.Duration
	CPU      time.Duration // user + system, from wait4's rusage
	MaxRSSKB int64         // ru_maxrss: the peak resident set size
	Samples  []Sample
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// Measure runs cmd to completion (killing it after timeout), sampling its
// resident set size every interval (0: no sampling) together with probe's
// value, and returns its rusage figures. A non-zero exit is not an error:
// the caller reads ExitCode.
func Measure(cmd *exec.Cmd, timeout, interval time.Duration, probe func() int64) (*Measured, error) {
	var stdout, stderr bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	m := &Measured{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	if interval > 0 {
		wg.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					rss, hwm := procRSSKB(cmd.Process.Pid)
					if rss == 0 {
						continue
					}
					s := Sample{At: time.Since(start), RSSKB: rss, HWMKB: hwm}
					if probe != nil {
						s.Extra = probe()
					}
					m.Samples = append(m.Samples, s)
				}
			}
		})
	}
	timer := time.AfterFunc(timeout, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	close(done)
	wg.Wait()
	m.Wall = time.Since(start)
	m.Stdout, m.Stderr = stdout.Bytes(), stderr.Bytes()
	if ps := cmd.ProcessState; ps != nil {
		m.ExitCode = ps.ExitCode()
		m.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSSKB = ru.Maxrss // KB on Linux
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return m, err
	}
	if m.Wall >= timeout {
		return m, fmt.Errorf("%s killed after %s", filepath.Base(cmd.Path), timeout)
	}
	return m, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 1<<20 { // keep the first MB of a chatty process
		return len(p), nil
	}
	return l.w.Write(p)
}
