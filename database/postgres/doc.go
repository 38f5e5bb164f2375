// Package postgres is collide's PostgreSQL driver (database.Driver, name
// "postgres"): it opens databases with pgx through database/sql and owns
// PostgreSQL DSNs in both forms, URLs (postgres:// or postgresql://) and
// libpq key=value strings (with 'quoted values'): their address (TCP,
// default port 5432, or a Unix socket when host is a directory), their
// rewriting to go through a proxy, and their redaction. It registers
// itself in init().
package postgres
