// Package mysql is collide's MySQL and MariaDB driver (database.Driver,
// name "mysql"): it opens databases with github.com/go-sql-driver/mysql
// and owns their DSNs in the driver's form,
// user:pass@tcp(host:port)/db?param=value (IPv6 as tcp([::1]:3306)) or
// user:pass@unix(/path.sock)/db, and as URLs, mysql:// or mariadb://
// user:pass@host:port/db?param=value: their address (default port 3306),
// their rewriting to go through a proxy, and their redaction. It registers
// itself in init().
package mysql
