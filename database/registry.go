package database

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes d available under d.Name(). It panics if d is nil, its
// name is empty or taken: registration happens in init().
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if d == nil || d.Name() == "" {
		panic("database: Register needs a driver with a name")
	}
	if _, dup := drivers[d.Name()]; dup {
		panic("database: driver " + d.Name() + " registered twice")
	}
	drivers[d.Name()] = d
}

// Names returns the registered driver names in the order of their
// Features().Rank, then by name: postgres, sqlite, mysql, redis.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := drivers[names[i]].Features().Rank, drivers[names[j]].Features().Rank
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// Lookup returns the driver registered under name, or an error listing the
// known ones.
func Lookup(name string) (Driver, error) {
	mu.RLock()
	d := drivers[name]
	mu.RUnlock()
	if d == nil {
		return nil, fmt.Errorf("unknown database driver %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return d, nil
}

// Drivers returns the registered drivers, in the order of Names.
func Drivers() []Driver {
	names := Names()
	out := make([]Driver, 0, len(names))
	mu.RLock()
	defer mu.RUnlock()
	for _, n := range names {
		out = append(out, drivers[n])
	}
	return out
}

// NamesWhere returns, in the order of Names, the names of the drivers for which keep is
// true, e.g. those the demo runs on, for messages.
func NamesWhere(keep func(Driver) bool) []string {
	var out []string
	for _, d := range Drivers() {
		if keep(d) {
			out = append(out, d.Name())
		}
	}
	return out
}

// DefaultOpenTimeout bounds Open when ctx has no deadline.
const DefaultOpenTimeout = 15 * time.Second

// Open connects to the database named by driver and dsn and pings it. An
// unknown driver is an error listing the known ones; an unreachable
// database is an error that wraps the cause and shows the DSN with its
// password redacted.
func Open(ctx context.Context, driver, dsn string) (DB, error) {
	d, err := Lookup(driver)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("database: %s: empty DSN", driver)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultOpenTimeout)
		defer cancel()
	}
	return d.Open(ctx, dsn)
}

// Redact returns dsn with its passwords hidden: by the named driver's
// Redact, then by every other registered driver's (each leaves a DSN of
// another form unchanged), so that a DSN is redacted whatever its form,
// even under the wrong driver name or none ("").
func Redact(driver, dsn string) string {
	if d, err := Lookup(driver); err == nil {
		dsn = d.Redact(dsn)
	}
	for _, d := range Drivers() {
		if d.Name() != driver {
			dsn = d.Redact(dsn)
		}
	}
	return dsn
}

// Join lists names for a message: "a", "a or b", "a, b or c".
func Join(names []string) string {
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
