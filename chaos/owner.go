package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Owner is the process that created a proxy: collide writes it into every
// proxy name (Toxiproxy proxies have only a name, listen and upstream
// addresses and an enabled flag), so that a later run or `collide clean`
// can tell a leftover of a killed run from a live run's proxy.
type Owner struct {
	// Host is the hostname, with any character outside [A-Za-z0-9.-]
	// written as '_'.
	Host string
	// PID is the process id.
	PID int
	// Start is the process's start time in clock ticks since boot, as
	// /proc/<pid>/stat field 22 gives it (0 where there is no /proc): a
	// reused PID has another start time.
	Start uint64
}

// ownerSep separates the owner's fields in a proxy name; it is outside the
// characters of link names and run ids, so a name parses back unambiguously.
const ownerSep = "~"

var (
	selfOnce sync.Once
	self     Owner
)

// Self is the current process as an Owner.
func Self() Owner {
	selfOnce.Do(func() {
		host, _ := os.Hostname()
		self = Owner{Host: cleanHost(host), PID: os.Getpid()}
		self.Start, _ = processStart(self.PID)
	})
	return self
}

// cleanHost keeps a hostname's letters, digits, '.' and '-'.
func cleanHost(h string) string {
	if h == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, h)
}

// suffix is the owner as written at the end of a proxy name:
// ~<host>~<pid>~<start>.
func (o Owner) suffix() string {
	return ownerSep + o.Host + ownerSep + strconv.Itoa(o.PID) + ownerSep + strconv.FormatUint(o.Start, 10)
}

// String is the owner for people: "host ci-7 pid 4242 (start 912345)".
func (o Owner) String() string {
	return fmt.Sprintf("host %s pid %d (start %d)", o.Host, o.PID, o.Start)
}

// Gone reports whether the owner, a process of this host, no longer runs:
// its PID is not alive, or is alive with another start time (the PID was
// reused). It says nothing of another host's process (false, with
// otherHost true).
func (o Owner) Gone() (gone, otherHost bool) {
	if o.Host != Self().Host {
		return false, true
	}
	if !pidAlive(o.PID) {
		return true, false
	}
	if o.Start == 0 {
		return false, false
	}
	start, err := processStart(o.PID)
	return err == nil && start != o.Start, false
}

// processStart reads a process's start time (clock ticks since boot) from
// /proc/<pid>/stat.
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// fields are counted after its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); the start time is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// proxyOwner parses a proxy name collide wrote:
// collide-<runID>-<link>~<host>~<pid>~<start>. ok is false for a name
// without an owner (not collide's, or from a collide before owners).
func proxyOwner(name string) (base string, o Owner, ok bool) {
	parts := strings.Split(name, ownerSep)
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "collide-") {
		return name, Owner{}, false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return name, Owner{}, false
	}
	start, err := strconv.ParseUint(parts[3], 10, 64)
	if err != nil {
		return name, Owner{}, false
	}
	return parts[0], Owner{Host: parts[1], PID: pid, Start: start}, true
}
