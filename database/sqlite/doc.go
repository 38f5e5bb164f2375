// Package sqlite is collide's SQLite driver (database.Driver, name
// "sqlite"): it opens database files with modernc.org/sqlite (pure Go, no
// cgo). SQLite runs inside the service, so a DSN (a file path or a file:
// URI) has no network address: Address and Through return
// database.ErrNoNetwork, and a profile cannot put a database link in
// front of it. It registers itself in init().
package sqlite
