package stacks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"sync"
	"time"
)

// DefaultStopGrace is how long Close waits after SIGTERM before SIGKILL.
const DefaultStopGrace = 5 * time.Second

// CommandConfig is a service to run as a child process. Placeholders must
// already be expanded (see Expand).
type CommandConfig struct {
	// Args is the program and its arguments; no shell is involved. A
	// relative program path is taken relative to Dir.
	Args []string
	// Env is added to collide's environment (and wins over it).
	Env map[string]string
	// Dir is the working directory; empty: collide's.
	Dir string
	// URL is the service's base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Health is the path polled until 2xx; empty: until any HTTP answer to
	// GET /.
	Health string
	// HealthTimeout bounds the wait for health.
	HealthTimeout time.Duration
	// LogPath is the file that receives the service's stdout and stderr.
	LogPath string
	// StopGrace is the wait between SIGTERM and SIGKILL (default 5s).
	StopGrace time.Duration
}

// Command is a running service started by StartCommand. It runs in its own
// process group, so that Close stops whatever it spawned too, and a Ctrl-C
// on collide's terminal reaches collide alone (which then stops it). On
// Linux the kernel kills it if collide dies without cleaning up.
type Command struct {
	cfg  CommandConfig
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // Wait's result, valid after done

	closeOnce sync.Once
	closeErr  error
}

// StartCommand starts the service and waits until it is healthy. If it
// exits first, or is not healthy within cfg.HealthTimeout, it is stopped and
// the error names the log file and quotes its last lines.
func StartCommand(ctx context.Context, cfg CommandConfig) (*Command, error) {
	if len(cfg.Args) == 0 || cfg.Args[0] == "" {
		return nil, errors.New("no program to run")
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	logf, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("service log: %w", err)
	}
	cmd := exec.Command(cfg.Args[0], cfg.Args[1:]...)
	cmd.Dir = cfg.Dir
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(cfg.Env))
	for k := range cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+cfg.Env[k])
	}
	// The log file itself, not a pipe: no copying goroutine, and nothing for
	// a grandchild that keeps the descriptor open to block Wait on.
	cmd.Stdout, cmd.Stderr = logf, logf
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Args[0], err)
	}
	c := &Command{cfg: cfg, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := waitHealthy(ctx, cfg.URL, cfg.Health, cfg.HealthTimeout, c.done); err != nil {
		cerr := c.Close()
		msg := fmt.Sprintf("service %s (pid %d) ", cfg.Args[0], cmd.Process.Pid)
		switch {
		case errors.Is(err, errExited):
			msg += fmt.Sprintf("exited before it was healthy (%v)", exitReason(c.err))
		case errors.Is(err, context.Canceled):
			return nil, errors.Join(err, cerr)
		default:
			msg += err.Error()
		}
		return nil, errors.Join(errors.New(withLog(msg, cfg.LogPath)), cerr)
	}
	return c, nil
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// URL is the service's base URL.
func (c *Command) URL() string { return c.cfg.URL }

// PID is the service's process id, which is also its process group id.
func (c *Command) PID() int { return c.cmd.Process.Pid }

// LogPath is the file with the service's output.
func (c *Command) LogPath() string { return c.cfg.LogPath }

// Exited reports whether the service has already exited (before Close), and
// how.
func (c *Command) Exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// Close stops the service and everything in its process group: SIGTERM,
// then SIGKILL for whatever is left after the grace period. It is safe to
// call more than once and from several goroutines. It fails only if
// something survives SIGKILL.
func (c *Command) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.stop()
		c.log.Close()
	})
	return c.closeErr
}

func (c *Command) stop() error {
	pgid := c.cmd.Process.Pid
	signalGroup(c.cmd, pgid, sigTerm)
	// The leader may be gone while members of its group (say, workers it
	// forked) still shut down: they get the rest of the grace period too.
	if c.waitGone(pgid, time.Now().Add(c.cfg.StopGrace)) {
		return nil
	}
	signalGroup(c.cmd, pgid, sigKill)
	if c.waitGone(pgid, time.Now().Add(5*time.Second)) {
		return nil
	}
	return fmt.Errorf("service %s: processes of its group %d survived SIGKILL", c.cfg.Args[0], pgid)
}

// waitGone waits until the leader has been reaped and its process group is
// empty, or until deadline; it reports whether they are gone.
func (c *Command) waitGone(pgid int, deadline time.Time) bool {
	for {
		select {
		case <-c.done:
			if !groupAlive(pgid) {
				return true
			}
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreePort returns a TCP port that is free on 127.0.0.1 right now. Another
// process could take it before the service binds it; the window is short.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
