// Package database owns what collide knows about databases in general: the
// DB interface checkers, setup and teardown use (Exec, Query, Each), fully
// read Rows and the normalization of their values, the Driver interface
// every database driver implements, and the registry of drivers by name
// (Register, Lookup, Names, Open).
//
// Each driver is one package under database/ (postgres, mysql, sqlite,
// redis) that registers itself in init(); database/all imports them all.
// A driver owns everything about its DSNs: the network address a DSN
// connects to (Address), the DSN rewritten to connect through a proxy
// (Through), its redaction (Redact), its default port, the validation of
// a profile's database fields (Check, over a Setting, so that drivers do
// not import profiles) and its bind-parameter syntax. Code outside
// database/ asks the driver and never compares driver names.
//
// SQL is the DB over database/sql the SQL drivers share; ConnectError and
// StatementError are the errors of a failed Open and of a statement the
// database rejected.
package database
