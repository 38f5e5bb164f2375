package demo

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql" // registers the "mysql" database/sql driver
)

// The MariaDB / MySQL backend (Config.Driver "mysql", github.com/go-sql-driver/mysql).
// It differs from PostgreSQL where the two SQL dialects do:
//
//   - no RETURNING on UPDATE: an UPDATE … RETURNING becomes, in one
//     transaction, the UPDATE (which keeps its row locked until the end)
//     and a SELECT of the row by id (updateReturning); an INSERT … RETURNING
//     id becomes the INSERT and its LastInsertId (insertID);
//   - no ON CONFLICT: INSERT IGNORE for "do nothing", INSERT … ON DUPLICATE
//     KEY UPDATE for upserts, and two statements for the safe conditional
//     upsert of the jobs (insert if absent, else update if older);
//   - KEY is a reserved word: the key columns are written `key`;
//   - indexed and key TEXT columns are VARCHAR(255), and every table uses
//     the binary collation utf8mb4_bin, so strings compare as on
//     PostgreSQL (case-sensitive);
//   - the racy collection save locks the aggregate root's row (table_locks,
//     SELECT … FOR UPDATE) where PostgreSQL locks the table;
//   - the safe locks endpoint uses GET_LOCK/RELEASE_LOCK on a connection of
//     its own, like PostgreSQL's session advisory locks: no lease, freed when
//     released or when the session ends (a crash closes it);
//   - concurrent Opens serialise on GET_LOCK(mysqlSchemaLock) instead of
//     pg_advisory_xact_lock.
//
// Transactions run at the server's default isolation (REPEATABLE READ on
// InnoDB); every safe path relies on row locks (a locking read, an atomic
// UPDATE, a unique index), never on a snapshot.
//
// Tested on MariaDB 10.11 only. mysqlModeSchema's DROP INDEX IF EXISTS
// and CREATE INDEX IF NOT EXISTS are MariaDB syntax that MySQL 8 lacks, so
// Open would fail on MySQL 8 as it stands.

// driverMySQL is the Config.Driver of MariaDB and MySQL.
const driverMySQL = "mysql"

// mysqlSchemaLock is the GET_LOCK name that serialises concurrent Opens of
// one server's demo schemas.
const mysqlSchemaLock = "collide-demo-schema"

// mysqlSchemaLockWait bounds the wait for mysqlSchemaLock, in seconds.
const mysqlSchemaLockWait = 30

// mysqlDSN turns a Config.DSN for the mysql driver into the DSN handed to
// go-sql-driver/mysql. dsn is the driver's form,
// user:pass@tcp(127.0.0.1:3306)/db?param=value, or a URL,
// mysql://user:pass@127.0.0.1:3306/db?param=value (mariadb:// too; the port
// defaults to 3306). It sets:
//
//   - clientFoundRows=true, always: an UPDATE's rows affected counts the
//     rows it matched, as on PostgreSQL and SQLite, not only those it
//     changed (the demo reads "0 rows" as "not found" or "condition false");
//   - parseTime=true (DATETIME columns scan into time.Time), a 10 s dial
//     timeout and the session time zone '+00:00' (so CURRENT_TIMESTAMP is
//     UTC), unless the DSN sets them.
func mysqlDSN(dsn string) (string, error) {
	var (
		cfg      *mysql.Config
		rawQuery string
		err      error
	)
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok && (scheme == "mysql" || scheme == "mariadb") {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return "", fmt.Errorf("invalid URL: %w", err)
		}
		host := u.Host
		if host == "" {
			host = "127.0.0.1"
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
		rawQuery = u.RawQuery
		q := ""
		if rawQuery != "" {
			q = "?" + rawQuery
		}
		if cfg, err = mysql.ParseDSN("tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/") + q); err != nil {
			return "", err
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	} else {
		if cfg, err = mysql.ParseDSN(dsn); err != nil {
			return "", err
		}
		_, rawQuery, _ = strings.Cut(dsn, "?")
	}
	if cfg.DBName == "" {
		return "", fmt.Errorf("DSN %q names no database (want user:pass@tcp(host:3306)/db)", redactMySQL(cfg))
	}
	given := func(name string) bool {
		for _, kv := range strings.Split(rawQuery, "&") {
			if k, _, _ := strings.Cut(kv, "="); k == name {
				return true
			}
		}
		return false
	}
	cfg.ClientFoundRows = true
	if !given("parseTime") {
		cfg.ParseTime = true
	}
	if !given("timeout") {
		cfg.Timeout = 10 * time.Second
	}
	if !given("time_zone") {
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["time_zone"] = "'+00:00'"
	}
	return cfg.FormatDSN(), nil
}

// redactMySQL formats cfg without its password.
func redactMySQL(cfg *mysql.Config) string {
	c := cfg.Clone()
	if c.Passwd != "" {
		c.Passwd = "xxxxx"
	}
	return c.FormatDSN()
}

// mysqlTable closes every CREATE TABLE of mysqlDialect: InnoDB (row locks,
// transactions) and a binary collation (case-sensitive keys).
const mysqlTable = ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// mysqlSerial is mysqlDialect's auto-increment primary key column type.
const mysqlSerial = `BIGINT AUTO_INCREMENT PRIMARY KEY`

var mysqlDialect = dialect{
	name:             driverMySQL,
	sqlDriver:        "mysql",
	key:              "`key`",
	forUpdate:        " FOR UPDATE",
	lockProjectItems: `SELECT name FROM table_locks WHERE name = 'project_items' FOR UPDATE`,
	schemaLock:       fmt.Sprintf(`SELECT GET_LOCK('%s', %d)`, mysqlSchemaLock, mysqlSchemaLockWait),
	schemaUnlock:     fmt.Sprintf(`SELECT RELEASE_LOCK('%s')`, mysqlSchemaLock),
	modeSchema:       mysqlModeSchema,
	schema: []string{
		`CREATE TABLE IF NOT EXISTS counters (
			id    BIGINT PRIMARY KEY,
			value BIGINT NOT NULL
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS orders (
			id              ` + mysqlSerial + `,
			idempotency_key VARCHAR(255) NOT NULL,
			item            TEXT NOT NULL DEFAULT (''),
			created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
			INDEX orders_idempotency_key_idx (idempotency_key)
		)` + mysqlTable,
		"CREATE TABLE IF NOT EXISTS idempotency_keys (\n" +
			"`key`    VARCHAR(255) PRIMARY KEY,\n" +
			"order_id BIGINT NULL\n" +
			")" + mysqlTable,
		`INSERT IGNORE INTO counters (id, value) VALUES (1, 0)`,
		`CREATE TABLE IF NOT EXISTS docs (
			id      BIGINT PRIMARY KEY,
			title   TEXT NOT NULL DEFAULT (''),
			version BIGINT NOT NULL DEFAULT 0
		)` + mysqlTable,
		`INSERT IGNORE INTO docs (id, title, version) VALUES (1, '', 0)`,
		`CREATE TABLE IF NOT EXISTS project_items (
			id         ` + mysqlSerial + `,
			project_id BIGINT NOT NULL,
			item       TEXT NOT NULL,
			INDEX project_items_project_idx (project_id)
		)` + mysqlTable,
		// The aggregate root the racy collection save locks (lockProjectItems).
		`CREATE TABLE IF NOT EXISTS table_locks (
			name VARCHAR(64) PRIMARY KEY
		)` + mysqlTable,
		`INSERT IGNORE INTO table_locks (name) VALUES ('project_items')`,
		`CREATE TABLE IF NOT EXISTS reports (
			id     BIGINT PRIMARY KEY,
			job    BIGINT NOT NULL,
			result TEXT NOT NULL DEFAULT ('')
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS items (
			id    BIGINT PRIMARY KEY,
			price BIGINT NOT NULL DEFAULT 0,
			batch BIGINT NOT NULL DEFAULT 0,
			edits BIGINT NOT NULL DEFAULT 0
		)` + mysqlTable,
		`INSERT IGNORE INTO items (id, price, batch, edits) VALUES
			(1, 0, 0, 0), (2, 0, 0, 0), (3, 0, 0, 0), (4, 0, 0, 0), (5, 0, 0, 0),
			(6, 0, 0, 0), (7, 0, 0, 0), (8, 0, 0, 0), (9, 0, 0, 0), (10, 0, 0, 0)`,
		`CREATE TABLE IF NOT EXISTS accounts (
			id      BIGINT PRIMARY KEY,
			balance BIGINT NOT NULL
		)` + mysqlTable,
		`INSERT IGNORE INTO accounts (id, balance) VALUES (1, 100), (2, 100)`,
		`CREATE TABLE IF NOT EXISTS products (
			id    BIGINT PRIMARY KEY,
			stock BIGINT NOT NULL
		)` + mysqlTable,
		`INSERT IGNORE INTO products (id, stock) VALUES (1, 10)`,
		`CREATE TABLE IF NOT EXISTS purchases (
			id         ` + mysqlSerial + `,
			product_id BIGINT NOT NULL,
			buyer      TEXT NOT NULL DEFAULT (''),
			INDEX purchases_product_idx (product_id)
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS wallets (
			id      BIGINT PRIMARY KEY,
			balance BIGINT NOT NULL
		)` + mysqlTable,
		`INSERT IGNORE INTO wallets (id, balance) VALUES (1, 0)`,
		`CREATE TABLE IF NOT EXISTS webhook_events (
			id       ` + mysqlSerial + `,
			event_id VARCHAR(255) NOT NULL,
			wallet   BIGINT NOT NULL,
			amount   BIGINT NOT NULL,
			INDEX webhook_events_event_idx (event_id)
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS processed_events (
			event_id VARCHAR(255) PRIMARY KEY
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS locks (
			name       VARCHAR(255) PRIMARY KEY,
			holder     VARCHAR(255) NOT NULL,
			expires_us BIGINT NOT NULL
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS lock_log (
			id          ` + mysqlSerial + `,
			name        VARCHAR(255) NOT NULL,
			holder      TEXT NOT NULL,
			backend     TEXT NOT NULL,
			acquired_us BIGINT NOT NULL,
			released_us BIGINT NULL,
			status      TEXT NOT NULL,
			INDEX lock_log_name_idx (name)
		)` + mysqlTable,
		"CREATE TABLE IF NOT EXISTS kv (\n" +
			"`key` VARCHAR(255) PRIMARY KEY,\n" +
			"value BIGINT NOT NULL\n" +
			")" + mysqlTable,
		"CREATE TABLE IF NOT EXISTS cached_kv (\n" +
			"`key` VARCHAR(255) PRIMARY KEY,\n" +
			"value BIGINT NOT NULL\n" +
			")" + mysqlTable,
		`CREATE TABLE IF NOT EXISTS users (
			id   ` + mysqlSerial + `,
			name VARCHAR(255) NOT NULL UNIQUE
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS tokens (
			token   VARCHAR(255) PRIMARY KEY,
			user_id BIGINT NOT NULL
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS resources (
			id      ` + mysqlSerial + `,
			name    TEXT NOT NULL,
			user_id BIGINT NOT NULL
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS favorites (
			id          ` + mysqlSerial + `,
			resource_id BIGINT NOT NULL,
			user_id     BIGINT NOT NULL,
			INDEX favorites_resource_user_idx (resource_id, user_id)
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS members (
			id   ` + mysqlSerial + `,
			name TEXT NOT NULL
		)` + mysqlTable,
		`CREATE TABLE IF NOT EXISTS member_profiles (
			id        ` + mysqlSerial + `,
			member_id BIGINT NOT NULL,
			bio       TEXT NOT NULL,
			INDEX member_profiles_member_idx (member_id)
		)` + mysqlTable,
	},
}

// mysqlModeSchema is modeSchema in MariaDB's syntax: DROP INDEX IF EXISTS
// names its table, and a DELETE reads its own table only through a derived
// table.
func mysqlModeSchema(mode string) []string {
	if mode == modeRacy {
		return []string{`ALTER TABLE favorites DROP INDEX IF EXISTS ` + favoritesUniqueIndex}
	}
	return []string{
		`DELETE FROM favorites WHERE id NOT IN (
			SELECT id FROM (SELECT MIN(id) AS id FROM favorites GROUP BY resource_id, user_id) AS keep)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ` + favoritesUniqueIndex + ` ON favorites (resource_id, user_id)`,
	}
}

// --- MariaDB / MySQL named locks (safe) ---

// namedLocks takes GET_LOCK locks, each on a pooled connection reserved
// for the hold: MariaDB's counterpart of advisoryLocks.
type namedLocks struct {
	s *Service
	// database is the demo's database: GET_LOCK names are server-wide, so
	// the key includes it, and demos on two databases of one server never
	// share a lock (PostgreSQL's advisory locks are per database).
	database string
}

func newNamedLocks(s *Service) *namedLocks {
	l := &namedLocks{s: s}
	if dsn, err := mysqlDSN(s.cfg.DSN); err == nil { // validated in Open
		if cfg, err := mysql.ParseDSN(dsn); err == nil {
			l.database = cfg.DBName
		}
	}
	return l
}

func (l *namedLocks) name() string { return driverMySQL }

// key maps a lock name to its GET_LOCK name: fnv64 of the database and
// the name, in hex (at most 64 characters, whatever the length of name).
func (l *namedLocks) key(name string) string {
	return fmt.Sprintf("collide-lock:%016x", uint64(advisoryKey(l.database+"\x00"+name)))
}

func (l *namedLocks) tryAcquire(ctx context.Context, name, _ string, _ time.Duration) (heldLock, error) {
	conn, err := l.s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connection: %w", err)
	}
	key := l.key(name)
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, 0)`, key).Scan(&got); err != nil {
		discard(conn) // the lock may have been taken on it: never pool it again
		return nil, fmt.Errorf("GET_LOCK: %w", err)
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, nil
	}
	return &namedHeld{conn: conn, key: key}, nil
}

type namedHeld struct {
	conn *sql.Conn
	key  string
}

func (h *namedHeld) renews() bool { return false }

func (h *namedHeld) extend(context.Context, time.Duration) (bool, error) { return true, nil }

// release frees the lock; RELEASE_LOCK answers 1 only when this session
// held it.
func (h *namedHeld) release(ctx context.Context) (bool, error) {
	var ok sql.NullInt64
	if err := h.conn.QueryRowContext(ctx, `SELECT RELEASE_LOCK(?)`, h.key).Scan(&ok); err != nil {
		discard(h.conn) // closing the session frees whatever it held
		return false, fmt.Errorf("RELEASE_LOCK: %w", err)
	}
	if ok.Int64 != 1 {
		discard(h.conn)
		return false, nil
	}
	return true, h.conn.Close()
}

// abandon closes the connection without releasing: the server frees the
// session's named locks when the session ends.
func (h *namedHeld) abandon() { discard(h.conn) }

// insertIgnoreID runs insert, an INSERT IGNORE of one row into a table
// whose primary key is the auto-increment column id (MariaDB), and returns
// the new row's id, or sql.ErrNoRows when a unique index already held the
// row (ON CONFLICT DO NOTHING RETURNING id on the other dialects).
func (s *Service) insertIgnoreID(ctx context.Context, insert string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, insert, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return 0, sql.ErrNoRows
	}
	return res.LastInsertId()
}

// storeReportMySQL is storeReport on MariaDB. racy: one upsert, always
// applied. safe: INSERT IGNORE the row; if it existed, UPDATE it only where
// its job is older (each statement atomic; a report row is never deleted
// by the service).
func (s *Service) storeReportMySQL(ctx context.Context, id, job int64, result string) (bool, error) {
	if s.cfg.Mode == modeRacy {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO reports (id, job, result) VALUES (?, ?, ?)
			ON DUPLICATE KEY UPDATE job = VALUES(job), result = VALUES(result)`, id, job, result); err != nil {
			return false, fmt.Errorf("upsert: %w", err)
		}
		return true, nil
	}
	res, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO reports (id, job, result) VALUES (?, ?, ?)`, id, job, result)
	if err != nil {
		return false, fmt.Errorf("insert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err == nil, err
	}
	res, err = s.db.ExecContext(ctx, `UPDATE reports SET job = ?, result = ? WHERE id = ? AND job < ?`, job, result, id, job)
	if err != nil {
		return false, fmt.Errorf("update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("update: rows affected: %w", err)
	}
	return n == 1, nil
}
