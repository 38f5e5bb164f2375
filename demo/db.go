package demo

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Driver names accepted in Config.Driver.
const (
	driverSQLite   = "sqlite"
	driverPostgres = "postgres"
	// driverMySQL ("mysql": MariaDB or MySQL) is in mysql.go.
)

// sqliteDefaults are the DSN parameters the demo adds to a SQLite DSN unless
// the caller already set the same knob. Each entry is the parameter to append
// and the prefixes (of "_pragma" values or parameter names) that mean "the
// caller chose this already".
//
//   - busy_timeout(10000): a writer that finds the database locked waits up to
//     10 000 ms instead of failing with SQLITE_BUSY at once.
//   - journal_mode(WAL): readers never block the writer nor each other, so the
//     racy read-then-write paths really run their reads concurrently.
//   - synchronous(NORMAL): the usual durability trade-off with WAL.
//   - _txlock=immediate: BEGIN takes the write lock up-front, so the safe
//     paths' transactions queue on busy_timeout instead of deadlocking on a
//     read-to-write lock upgrade (which SQLite reports as SQLITE_BUSY at once).
var sqliteDefaults = []struct {
	param   string   // "key=value", appended verbatim
	pragma  string   // the _pragma name this sets, if it is a pragma
	aliases []string // parameter names that set the same knob
}{
	{"_pragma=busy_timeout(10000)", "busy_timeout", []string{"_busy_timeout", "_timeout"}},
	{"_pragma=journal_mode(WAL)", "journal_mode", []string{"_journal_mode", "_journal"}},
	{"_pragma=synchronous(NORMAL)", "synchronous", []string{"_synchronous", "_sync"}},
	{"_txlock=immediate", "", []string{"_txlock"}},
}

// sqliteDSN turns a Config.DSN for the sqlite driver into the DSN handed to
// modernc.org/sqlite. dsn is either a "file:" URI, kept as it is, or a plain
// path optionally followed by "?params" (the go-sqlite3 convention), whose
// path is percent-escaped into a "file:" URI. Either way the concurrency
// defaults in sqliteDefaults are appended for every knob the caller did not
// set.
func sqliteDSN(dsn string) string {
	path, query, _ := strings.Cut(dsn, "?")
	if !strings.HasPrefix(path, "file:") {
		// Inside a URI, SQLite decodes %XX and ends the path at '?' or '#'.
		path = "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	}
	var given []string // "name" and "_pragma:name" keys the caller set
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "_pragma" {
			v = strings.ToLower(strings.TrimSpace(unescapeQuery(v)))
			given = append(given, "_pragma:"+v)
			continue
		}
		given = append(given, k)
	}
	isGiven := func(pragma string, aliases []string) bool {
		for _, g := range given {
			if pragma != "" && strings.HasPrefix(g, "_pragma:"+pragma) {
				return true
			}
			for _, a := range aliases {
				if g == a {
					return true
				}
			}
		}
		return false
	}
	params := query
	for _, d := range sqliteDefaults {
		if isGiven(d.pragma, d.aliases) {
			continue
		}
		if params != "" {
			params += "&"
		}
		params += d.param
	}
	return path + "?" + params
}

// unescapeQuery decodes one query value, returning it unchanged if it is not
// valid percent-encoding.
func unescapeQuery(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// dialect hides the SQL differences between the drivers.
type dialect struct {
	name       string // Config.Driver: "sqlite", "postgres" or "mysql"
	sqlDriver  string // database/sql driver name: "sqlite", "pgx" or "mysql"
	dollarArgs bool   // placeholders are $1, $2, ... instead of ?
	// returning: the dialect has INSERT/UPDATE … RETURNING (SQLite,
	// PostgreSQL); without it insertID and updateReturning use
	// LastInsertId and a SELECT in the same transaction (mysql.go).
	returning bool
	// key is the column name "key" as queries must write it (`key` on
	// MariaDB, where KEY is reserved).
	key    string
	schema []string
	// modeSchema returns the statements run after schema that make the
	// database match the mode (the package's modeSchema, or MariaDB's).
	modeSchema func(mode string) []string
	// schemaLock, if set, is a query answering 1 once it holds the lock
	// that serialises concurrent schema creation, and schemaUnlock frees
	// it; both run on the schema's connection (a session lock, where the
	// lock is not a statement of the schema's transaction).
	schemaLock, schemaUnlock string
	// forUpdate is appended to a SELECT that must lock its rows until the
	// transaction ends: " FOR UPDATE" on PostgreSQL and MariaDB; "" on
	// SQLite, whose BEGIN IMMEDIATE already holds the database's write
	// lock.
	forUpdate string
	// lockProjectItems, run first in the racy collection save, serialises
	// the saves like an ORM flush that locks the aggregate root; "" on
	// SQLite (BEGIN IMMEDIATE does it).
	lockProjectItems string
}

var sqliteDialect = dialect{
	name:       driverSQLite,
	sqlDriver:  "sqlite",
	returning:  true,
	key:        "key",
	modeSchema: modeSchema,
	schema: append([]string{
		`CREATE TABLE IF NOT EXISTS counters (
			id    BIGINT PRIMARY KEY,
			value BIGINT NOT NULL
		)`,
		// No UNIQUE on idempotency_key: the racy path must be able to
		// duplicate. The plain index only keeps the lookup cheap.
		`CREATE TABLE IF NOT EXISTS orders (
			id              INTEGER PRIMARY KEY AUTOINCREMENT,
			idempotency_key TEXT NOT NULL,
			item            TEXT NOT NULL DEFAULT '',
			created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
		)`,
		`CREATE INDEX IF NOT EXISTS orders_idempotency_key_idx ON orders (idempotency_key)`,
		`CREATE TABLE IF NOT EXISTS idempotency_keys (
			key      TEXT PRIMARY KEY,
			order_id BIGINT NULL
		)`,
		`INSERT INTO counters (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING`,
	}, classSchema("INTEGER PRIMARY KEY AUTOINCREMENT")...),
}

var postgresDialect = dialect{
	name:             driverPostgres,
	sqlDriver:        "pgx",
	dollarArgs:       true,
	returning:        true,
	key:              "key",
	modeSchema:       modeSchema,
	forUpdate:        " FOR UPDATE",
	lockProjectItems: `LOCK TABLE project_items IN SHARE ROW EXCLUSIVE MODE`,
	schema: append([]string{
		// Serialises concurrent Opens against one database: concurrent
		// CREATE TABLE IF NOT EXISTS can otherwise fail on pg_type's
		// unique index. The lock ends with the schema transaction.
		`SELECT pg_advisory_xact_lock(7061746368)`,
		`CREATE TABLE IF NOT EXISTS counters (
			id    BIGINT PRIMARY KEY,
			value BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS orders (
			id              BIGSERIAL PRIMARY KEY,
			idempotency_key TEXT NOT NULL,
			item            TEXT NOT NULL DEFAULT '',
			created_at      TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
		)`,
		`CREATE INDEX IF NOT EXISTS orders_idempotency_key_idx ON orders (idempotency_key)`,
		`CREATE TABLE IF NOT EXISTS idempotency_keys (
			key      TEXT PRIMARY KEY,
			order_id BIGINT NULL
		)`,
		`INSERT INTO counters (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING`,
	}, classSchema("BIGSERIAL PRIMARY KEY")...),
}

// classSchema returns the tables of the race classes beyond counters and
// orders, and their seed rows, for a dialect whose auto-increment primary
// key column type is serial. No table has a constraint that only the safe
// path relies on but the racy path would trip over: the fixes live in the
// code paths (the one exception is in modeSchema). Seed rows are inserted
// only if absent.
func classSchema(serial string) []string {
	return []string{
		// RC-002 two-tab edit (docs.go).
		`CREATE TABLE IF NOT EXISTS docs (
			id      BIGINT PRIMARY KEY,
			title   TEXT NOT NULL DEFAULT '',
			version BIGINT NOT NULL DEFAULT 0
		)`,
		`INSERT INTO docs (id, title, version) VALUES (1, '', 0) ON CONFLICT DO NOTHING`,
		// RC-003 collection add (collection.go): id keeps insertion order.
		`CREATE TABLE IF NOT EXISTS project_items (
			id         ` + serial + `,
			project_id BIGINT NOT NULL,
			item       TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS project_items_project_idx ON project_items (project_id)`,
		// RC-004 out-of-order jobs (jobs.go): rows appear with their first job.
		`CREATE TABLE IF NOT EXISTS reports (
			id     BIGINT PRIMARY KEY,
			job    BIGINT NOT NULL,
			result TEXT NOT NULL DEFAULT ''
		)`,
		// RC-005 bulk + individual (bulk.go).
		`CREATE TABLE IF NOT EXISTS items (
			id    BIGINT PRIMARY KEY,
			price BIGINT NOT NULL DEFAULT 0,
			batch BIGINT NOT NULL DEFAULT 0,
			edits BIGINT NOT NULL DEFAULT 0
		)`,
		`INSERT INTO items (id, price, batch, edits) VALUES
			(1, 0, 0, 0), (2, 0, 0, 0), (3, 0, 0, 0), (4, 0, 0, 0), (5, 0, 0, 0),
			(6, 0, 0, 0), (7, 0, 0, 0), (8, 0, 0, 0), (9, 0, 0, 0), (10, 0, 0, 0)
			ON CONFLICT DO NOTHING`,
		// TOCTOU debit and transfer (accounts.go).
		`CREATE TABLE IF NOT EXISTS accounts (
			id      BIGINT PRIMARY KEY,
			balance BIGINT NOT NULL
		)`,
		`INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100) ON CONFLICT DO NOTHING`,
		// Oversell (inventory.go).
		`CREATE TABLE IF NOT EXISTS products (
			id    BIGINT PRIMARY KEY,
			stock BIGINT NOT NULL
		)`,
		`INSERT INTO products (id, stock) VALUES (1, 10) ON CONFLICT DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS purchases (
			id         ` + serial + `,
			product_id BIGINT NOT NULL,
			buyer      TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS purchases_product_idx ON purchases (product_id)`,
		// Webhook replay (webhooks.go): no UNIQUE on event_id, on purpose;
		// processed_events is the safe path's dedupe table.
		`CREATE TABLE IF NOT EXISTS wallets (
			id      BIGINT PRIMARY KEY,
			balance BIGINT NOT NULL
		)`,
		`INSERT INTO wallets (id, balance) VALUES (1, 0) ON CONFLICT DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS webhook_events (
			id       ` + serial + `,
			event_id TEXT NOT NULL,
			wallet   BIGINT NOT NULL,
			amount   BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS webhook_events_event_idx ON webhook_events (event_id)`,
		`CREATE TABLE IF NOT EXISTS processed_events (
			event_id TEXT PRIMARY KEY
		)`,
		// RC-007 locks (locks.go): the table lock's rows, and every hold.
		`CREATE TABLE IF NOT EXISTS locks (
			name       TEXT PRIMARY KEY,
			holder     TEXT NOT NULL,
			expires_us BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS lock_log (
			id          ` + serial + `,
			name        TEXT NOT NULL,
			holder      TEXT NOT NULL,
			backend     TEXT NOT NULL,
			acquired_us BIGINT NOT NULL,
			released_us BIGINT NULL,
			status      TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS lock_log_name_idx ON lock_log (name)`,
		// Linearizable register (kv.go).
		`CREATE TABLE IF NOT EXISTS kv (
			key   TEXT PRIMARY KEY,
			value BIGINT NOT NULL
		)`,
		// Read-through cache (cache.go).
		`CREATE TABLE IF NOT EXISTS cached_kv (
			key   TEXT PRIMARY KEY,
			value BIGINT NOT NULL
		)`,
		// Login and bearer tokens (auth.go).
		`CREATE TABLE IF NOT EXISTS users (
			id   ` + serial + `,
			name TEXT NOT NULL UNIQUE
		)`,
		`CREATE TABLE IF NOT EXISTS tokens (
			token   TEXT PRIMARY KEY,
			user_id BIGINT NOT NULL
		)`,
		// First-or-create (favorites.go): the unique index of the safe
		// path is in modeSchema; the plain one keeps the racy lookup cheap.
		`CREATE TABLE IF NOT EXISTS resources (
			id      ` + serial + `,
			name    TEXT NOT NULL,
			user_id BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS favorites (
			id          ` + serial + `,
			resource_id BIGINT NOT NULL,
			user_id     BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS favorites_resource_user_idx ON favorites (resource_id, user_id)`,
		// Compound operation (signup.go).
		`CREATE TABLE IF NOT EXISTS members (
			id   ` + serial + `,
			name TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS member_profiles (
			id        ` + serial + `,
			member_id BIGINT NOT NULL,
			bio       TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS member_profiles_member_idx ON member_profiles (member_id)`,
	}
}

// favoritesUniqueIndex is the safe first-or-create's unique index.
const favoritesUniqueIndex = "favorites_resource_user_key"

// modeSchema returns the statements, run after the dialect's schema, that
// make the database match the mode where the two differ: the one exception
// to "the fixes live in the code paths" is the first-or-create class,
// whose safe fix is the unique index on favorites (resource_id, user_id)
// that an ORM's find-or-create relies on. In racy mode Open drops it. In
// safe mode Open first deletes the duplicates a racy run left (keeping the
// oldest row of each pair), then creates it. A database is meant to be
// served in one mode at a time: a racy Open drops the index under a safe
// service still running on it.
func modeSchema(mode string) []string {
	if mode == modeRacy {
		return []string{`DROP INDEX IF EXISTS ` + favoritesUniqueIndex}
	}
	return []string{
		`DELETE FROM favorites WHERE id NOT IN (SELECT MIN(id) FROM favorites GROUP BY resource_id, user_id)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ` + favoritesUniqueIndex + ` ON favorites (resource_id, user_id)`,
	}
}

// q rewrites a query written with ? placeholders for the dialect. Queries in
// this package never contain a literal '?'.
func (d dialect) q(query string) string {
	if !d.dollarArgs {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// openDB opens and pings the pool for cfg (already validated) and creates
// the schema. maxConns is the pool size.
func openDB(ctx context.Context, cfg Config, d dialect, maxConns int) (*sql.DB, error) {
	dsn := cfg.DSN
	switch d.name {
	case driverSQLite:
		dsn = sqliteDSN(dsn)
	case driverMySQL:
		var err error
		if dsn, err = mysqlDSN(dsn); err != nil {
			return nil, fmt.Errorf("demo: mysql DSN: %w", err)
		}
	}
	db, err := sql.Open(d.sqlDriver, dsn)
	if err != nil {
		return nil, fmt.Errorf("demo: open %s: %w", d.name, err)
	}
	db.SetMaxOpenConns(maxConns)
	// Keep every connection: the default of 2 idle connections would make
	// a 64-client burst reconnect (and, on SQLite, rerun the pragmas)
	// constantly.
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("demo: ping %s: %w", d.name, err)
	}
	if err := createSchema(ctx, db, d, cfg.Mode); err != nil {
		db.Close()
		return nil, err
	}
	warmPool(ctx, db, maxConns)
	return db, nil
}

// warmPool opens up to n pooled connections now and runs one query on each
// (which makes SQLite load the schema, a per-connection cost), so the first
// burst of requests finds them ready and races like a steady-state one,
// instead of being serialised behind connection setup. It is best effort:
// the ping already proved the database reachable, and a connection that
// fails here is simply opened later, on demand.
func warmPool(ctx context.Context, db *sql.DB, n int) {
	var (
		mu    sync.Mutex
		conns []*sql.Conn
		wg    sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			c, err := db.Conn(ctx)
			if err != nil {
				return
			}
			var n int64
			_ = c.QueryRowContext(ctx, `SELECT COUNT(*) FROM counters`).Scan(&n)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, c := range conns {
		_ = c.Close() // back to the idle pool
	}
}

// createSchema runs the dialect's idempotent schema statements, then the
// mode's (d.modeSchema), in one transaction, on one connection that holds
// d.schemaLock throughout when the dialect has one. (On MariaDB each DDL
// statement commits at once: the transaction only groups the seed rows.)
func createSchema(ctx context.Context, db *sql.DB, d dialect, mode string) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo: create schema: connection: %w", err)
	}
	defer conn.Close()
	if d.schemaLock != "" {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, d.schemaLock).Scan(&got); err != nil {
			discard(conn)
			return fmt.Errorf("demo: create schema: lock: %w", err)
		}
		if got.Int64 != 1 {
			return fmt.Errorf("demo: create schema: %s did not get the lock (another Open holds it)", d.schemaLock)
		}
		defer func() {
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), d.schemaUnlock); uerr != nil {
				discard(conn) // closing the session frees the lock
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: create schema: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, stmt := range append(d.schema[:len(d.schema):len(d.schema)], d.modeSchema(mode)...) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("demo: create schema: %s: %w", firstLine(stmt), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: create schema: commit: %w", err)
	}
	return nil
}

// dbtx is what *sql.DB and *sql.Tx have in common for single statements.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertID runs insert (an INSERT of one row into a table whose primary
// key is the auto-increment column id, written with ? placeholders) on q
// and returns the new row's id: INSERT … RETURNING id where the dialect has
// it, else the driver's LastInsertId.
func (s *Service) insertID(ctx context.Context, q dbtx, insert string, args ...any) (int64, error) {
	var id int64
	if s.dialect.returning {
		err := q.QueryRowContext(ctx, s.dialect.q(insert+` RETURNING id`), args...).Scan(&id)
		return id, err
	}
	res, err := q.ExecContext(ctx, s.dialect.q(insert), args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// updateReturning runs update (an UPDATE of at most the one row of table
// whose id is id, with ? placeholders) and scans that row's columns cols
// (a select list) as they are after it into dest, like UPDATE … RETURNING
// cols. It returns sql.ErrNoRows when the UPDATE matched no row. It runs in
// tx, or when tx is nil on its own: one statement where the dialect has
// RETURNING; else a transaction of its own holding the UPDATE's row lock
// until the SELECT has read the row.
func (s *Service) updateReturning(ctx context.Context, tx *sql.Tx, table string, id int64, update string, args []any, cols string, dest ...any) (err error) {
	if s.dialect.returning {
		var q dbtx = s.db
		if tx != nil {
			q = tx
		}
		return q.QueryRowContext(ctx, s.dialect.q(update+` RETURNING `+cols), args...).Scan(dest...)
	}
	if tx == nil {
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() {
			if err != nil {
				rollback(tx)
				return
			}
			if err = tx.Commit(); err != nil {
				err = fmt.Errorf("commit: %w", err)
			}
		}()
	}
	res, err := tx.ExecContext(ctx, s.dialect.q(update), args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return tx.QueryRowContext(ctx, s.dialect.q(`SELECT `+cols+` FROM `+table+` WHERE id = ?`), id).Scan(dest...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
