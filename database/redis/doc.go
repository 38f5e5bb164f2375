// Package redis is collide's Redis driver (database.Driver, name "redis"),
// over github.com/redis/go-redis/v9. Its statements are Redis commands
// written as text (see DB); its DSNs are URLs, redis://[user:pass@]host:port/db
// (rediss:// for TLS) or unix://[user:pass@]/path.sock?db=N, whose address
// (default port 6379), rewriting to go through a proxy and redaction it
// owns. It registers itself in init().
package redis
