package database

import (
	"context"
	"errors"
)

// Rows is a fully read query result. Values are normalized to int64,
// float64, string, bool, time.Time or nil; []byte becomes string.
type Rows struct {
	Columns []string
	Values  [][]any
}

// DB is a database under test, as checkers see it.
//
// args are bind parameters, sent apart from the statement's text and
// written in it in the driver's own syntax (Driver.Syntax): $1, $2 … for
// postgres, ? for sqlite and mysql, and for redis $1, $2 … anywhere in a
// word, replaced after the command is split into words.
type DB interface {
	// Driver is the registered driver name, e.g. "postgres" or "sqlite".
	Driver() string
	// Exec runs one statement (not a script of several).
	Exec(ctx context.Context, sql string, args ...any) error
	// Query runs one statement and reads every row.
	Query(ctx context.Context, sql string, args ...any) (*Rows, error)
	// Each runs one statement and calls fn for every row as it streams in,
	// stopping at the first error fn returns (that error is returned as is).
	// The row slice is reused between calls: fn must copy what it keeps.
	// It returns the column names.
	Each(ctx context.Context, sql string, fn func(row []any) error, args ...any) ([]string, error)
	// Close closes the connection pool. Calls after Close fail.
	Close() error
}

// ErrNoNetwork is returned by Address and Through of a driver whose
// database is not reached over a network (SQLite: the service opens the
// file itself), so that no proxy can stand in front of it.
var ErrNoNetwork = errors.New("no network address")

// Driver is one kind of database. Implementations live in database/NAME
// and register themselves with Register in init().
type Driver interface {
	// Name is the name profiles write in database.driver.
	Name() string
	// Open connects to the database dsn names and pings it. Its errors
	// show the DSN through Redact and never the password.
	Open(ctx context.Context, dsn string) (DB, error)
	// Address is where dsn connects: network "tcp" and host:port with the
	// default port filled in, or network "unix" and the socket's path. A
	// driver without a network returns ErrNoNetwork.
	Address(dsn string) (network, address string, err error)
	// Through returns dsn rewritten to connect to a TCP proxy at hostport
	// (host:port), keeping everything else (user, password, database,
	// parameters). A driver without a network returns ErrNoNetwork.
	Through(dsn, hostport string) (string, error)
	// Redact returns dsn with its passwords replaced by redact.Placeholder.
	Redact(dsn string) string
	// DefaultPort is the TCP port a DSN without one connects to; 0 for a
	// driver without a network.
	DefaultPort() int
	// Features are the driver's fixed properties.
	Features() Features
	// Check validates a profile's database fields for this driver and
	// returns one Problem per bad field, none when they are fine.
	Check(s Setting) []Problem
}

// Features are the properties of a driver that collide's other packages
// ask about instead of comparing driver names.
type Features struct {
	// InProcess: the service opens the database itself, as a file (SQLite).
	// There is no network address and so no database link; a DSN left
	// empty means a file in the run folder.
	InProcess bool
	// Demo: the built-in demo service can run on this database.
	Demo bool
	// LockStore: the built-in demo service can keep its locks (POST
	// /locks/{name}/run) in this database, though not its tables (Demo
	// false). With this driver and the demo as target, the demo's tables
	// live in a file of an InProcess Demo driver in the run folder and its
	// lock store is this database's DSN (demo.Config.RedisURL) — through
	// the database link when a fault uses it. Checkers and setup steps
	// still talk to this database.
	LockStore bool
	// Container: collide can start this database in a container
	// (database.container).
	Container bool
	// Syntax is how statements take bind parameters.
	Syntax Syntax
	// Wire names the SQL wire protocol collide's tap (package chaos/tap)
	// decodes for this database, as tap.Protocol's String spells it; ""
	// when it decodes none. Statement-boundary faults (cut_after_statement)
	// need one.
	Wire string
	// Rank orders drivers in lists shown to users (Names), lower first:
	// the databases most profiles use come first.
	Rank int
}

// Syntax is how a driver's statements take bind parameters.
type Syntax struct {
	// Numbered: parameters are $1, $2 … and a value used twice reuses its
	// number; otherwise each is ? and a value used twice is passed twice.
	Numbered bool
	// SQL: statements are SQL, in which '…' quotes text. Otherwise (Redis)
	// a statement is a command of words.
	SQL bool
}

// Setting is what a driver's Check sees of a profile: its database fields
// and the kind of target. It is defined here, not in profiles, so that
// drivers do not import profiles.
type Setting struct {
	// DSN is database.dsn, "" when unset.
	DSN string
	// Container: database.container is set.
	Container bool
	// Target is the kind of target: TargetURL, TargetDemo, TargetCommand
	// or TargetContainer ("" when none or several are set).
	Target string
}

// The target kinds of a Setting.
const (
	TargetURL       = "url"
	TargetDemo      = "demo"
	TargetCommand   = "command"
	TargetContainer = "container"
)

// Problem is one bad field found by Check: Field is its path in the
// profile (e.g. "database.dsn"), Msg what is wrong, without the path.
type Problem struct {
	Field, Msg string
}
