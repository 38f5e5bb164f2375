// Package demo owns the built-in service under test: a small JSON-over-HTTP
// service with endpoints for every race class, each in a "racy" and a
// "safe" implementation (Config.Mode picks one for the whole service), on
// SQLite (modernc.org/sqlite), PostgreSQL (pgx) or MariaDB/MySQL
// (go-sql-driver/mysql, Config.Driver "mysql"), with Redis optionally
// serving the locks. collide attacks it to prove its checkers: under
// concurrency the racy implementation really shows each anomaly, the safe
// one never does.
//
// Race classes (one file each; Service.Handler lists the wire format):
//
//	class (audit)            endpoint(s)                        racy                                   safe fix
//	counters (RC-006)        POST /counters/{id}/increment      SELECT, think, write read+1            UPDATE ... value = value + 1
//	double submit (RC-001)   POST /orders + Idempotency-Key     look up key, think, INSERT             reserve key in idempotency_keys first
//	two-tab edit (RC-002)    GET, PUT /docs/{id}                read, think, version = read+1,         UPDATE ... WHERE version = client's;
//	                                                            client's version ignored               0 rows → 409
//	collection add (RC-003)  GET, POST /projects/{id}/items     read list, think, DELETE all +          INSERT the one row
//	                                                            re-INSERT list + item (one tx)
//	out-of-order jobs        GET /reports/{id},                 run [0, 2×Think), upsert                upsert ... WHERE reports.job < new job
//	(RC-004)                 POST /reports/{id}/regenerate      unconditionally                         ("applied":false when superseded)
//	bulk + edit (RC-005)     POST /items/bulk, GET /items,      read all, think, write rows back        one UPDATE of price, batch (rows
//	                         POST /items/{id}/edit              whole one by one (shuffled, paused)     locked in id order on PostgreSQL)
//	TOCTOU debit             POST /accounts/{id}/debit          SELECT, check, think, debit             UPDATE ... WHERE balance >= amount
//	TOCTOU transfer          POST /accounts/transfer            read both, think, write both absolute   one tx: lock rows in id order,
//	                                                                                                    conditional debit, credit
//	oversell                 GET /products/{id},                SELECT stock, check, think, sell        one tx: UPDATE ... WHERE stock > 0,
//	                         POST /products/{id}/purchase                                               then INSERT the purchase
//	webhook replay           POST /webhooks, GET /wallets/{id}  look up event, think, log + credit      one tx: INSERT processed_events
//	                                                                                                    ON CONFLICT DO NOTHING first
//	locks (RC-007)           POST /locks/{name}/run             check, think, set (no NX); plain DEL    SET NX PX + watchdog + compare-and-
//	                                                                                                    delete; PG advisory lock; atomic lease
//	linearizable register    GET, PUT /kv/{key}                 reads via a 200 ms cache never          reads hit the database
//	                                                            invalidated on write
//	read-through cache       GET, PUT /cache/{key}              miss: SELECT, fill; PUT: upsert, then   versioned (compare-and-set) fills:
//	(natural window)                                            delete the entry: a GET's fill of the   a fill is refused if a write of the
//	                                                            row it read before a PUT lands after    key began or ended since the GET's
//	                                                            the PUT's delete (stale for 2 s)        version read, or one is in flight
//	first-or-create          POST /resources/{id}/favorite,     SELECT by (resource_id, user_id),       think, INSERT ... ON CONFLICT DO
//	(natural window)         GET /resources/{id}/favorites      think, INSERT; no unique index          NOTHING on a unique index, then SELECT
//	compound operation       POST /signup                       INSERT member, think, INSERT profile    both INSERTs in one transaction
//	(a lost connection)                                         (two autocommit statements)
//
// The first-or-create class races even with Think = 0: its window is the
// natural one between a SELECT and an INSERT on pooled connections, a few
// hundred microseconds. Its endpoints, like POST /resources (create, returns
// the id), need a bearer token from POST /login {"user":"alice"}, which
// creates the user on first login (auth.go; the same in both modes). The
// read-through cache's window is narrower still: the few microseconds
// between a GET's SELECT and its cache fill, which a PUT of the same key
// must commit and invalidate within (cache.go).
//
// Each file's comment describes its two paths exactly. Both modes pause for
// Config.Think between a handler's read and its write (the safe paths
// before their atomic statement or transaction), so the two differ only in
// correctness, not in latency; the exceptions are spelled out (jobs run
// [0, 2×Think) in both modes; the racy bulk and transfer also pause a random
// [0, Think) between their writes; the register and the read-through cache do not think). Random
// durations come from one source seeded by Config.Seed.
//
// Schema: Open creates it idempotently (CREATE ... IF NOT EXISTS, seed rows
// inserted only if absent), the same on every driver except that the
// auto-increment key is INTEGER PRIMARY KEY AUTOINCREMENT on SQLite,
// BIGSERIAL PRIMARY KEY on PostgreSQL and BIGINT AUTO_INCREMENT PRIMARY KEY
// on MariaDB ("serial" below). On MariaDB the TEXT columns that are keys or
// indexed are VARCHAR(255), created_at is DATETIME(6), every table is
// InnoDB with the binary collation utf8mb4_bin, and one more table,
// table_locks(name VARCHAR(64) PK) seeded 'project_items', is the row the
// racy collection save locks (mysql.go):
//
//	counters(id BIGINT PK, value BIGINT)                       seed (1, 0)
//	orders(id serial, idempotency_key TEXT, item TEXT, created_at TIMESTAMP)  no UNIQUE on the key
//	idempotency_keys(key TEXT PK, order_id BIGINT NULL)
//	docs(id BIGINT PK, title TEXT, version BIGINT)              seed (1, '', 0)
//	project_items(id serial, project_id BIGINT, item TEXT)      no unique: items may repeat
//	reports(id BIGINT PK, job BIGINT, result TEXT)              rows appear with their first job
//	items(id BIGINT PK, price BIGINT, batch BIGINT, edits BIGINT)  seed ids 1..10, all 0
//	accounts(id BIGINT PK, balance BIGINT)                      seed (1, 100), (2, 100)
//	products(id BIGINT PK, stock BIGINT)                        seed (1, 10)
//	purchases(id serial, product_id BIGINT, buyer TEXT)
//	wallets(id BIGINT PK, balance BIGINT)                       seed (1, 0)
//	webhook_events(id serial, event_id TEXT, wallet BIGINT, amount BIGINT)  one row per application; no UNIQUE
//	processed_events(event_id TEXT PK)                          the safe webhook path's dedupe table
//	locks(name TEXT PK, holder TEXT, expires_us BIGINT)         the table lock (racy; safe on SQLite)
//	lock_log(id serial, name TEXT, holder TEXT, backend TEXT, acquired_us BIGINT,
//	         released_us BIGINT NULL, status TEXT)              every hold: released | crashed | lost
//	kv(key TEXT PK, value BIGINT)
//	cached_kv(key TEXT PK, value BIGINT)                         behind the read-through cache of /cache/{key}
//	users(id serial, name TEXT UNIQUE)
//	tokens(token TEXT PK, user_id BIGINT)                       one row per login; tokens never expire
//	resources(id serial, name TEXT, user_id BIGINT)             user_id: the creator
//	favorites(id serial, resource_id BIGINT, user_id BIGINT)    UNIQUE (resource_id, user_id) in safe mode only
//	members(id serial, name TEXT)
//	member_profiles(id serial, member_id BIGINT, bio TEXT)      one per member, written with it
//
// No constraint exists that only the safe path relies on and the racy path
// would trip over: the fixes live in the code paths. The one exception is
// the unique index favorites_resource_user_key, the first-or-create's fix:
// Open creates it in safe mode (after deleting the duplicates a racy run
// left, keeping the oldest row of each pair) and drops it in racy mode, so
// serve one database in one mode at a time. Profiles reset the tables they
// use in setup, e.g. "DELETE FROM counters; INSERT INTO counters(id, value)
// VALUES (1, 0)".
//
// Locks: with Config.RedisURL the locks live in Redis (any driver);
// without it on PostgreSQL in advisory locks (safe) or the locks table
// (racy), on MariaDB in GET_LOCK named locks (safe) or the locks table
// (racy), and on SQLite in the locks table (racy: check-then-set; safe: an
// atomic lease). lock_log times are Unix microseconds, taken so that the
// recorded interval lies inside the real hold; the safe paths answer 200
// only when the release proved the lock was still theirs (else 500, status
// "lost"). See locks.go.
//
// Statuses: 2xx means the operation took effect (200, or 201 for a
// created item, purchase, order, resource, favorite); 409 (conflict,
// insufficient funds, sold out, key in progress) and 423 (lock busy) are
// clean refusals that changed nothing, as are 400, 401 and 404; 500 is a
// database error or timeout whose effect is unknown (and a safe lock "lost
// during hold").
//
// Robustness: every request runs under a 15 s timeout and its queries use
// the request's context, so a database behind a stalled or resetting proxy
// turns into 500 responses, never a hung request or a panic. SQLite is
// opened in WAL mode with a 10 s busy timeout and BEGIN IMMEDIATE
// transactions, so lock contention waits rather than failing.
//
// Arrivals: a request carrying the header X-Collide-Burst (which collide
// sets on burst copies) has the time its handling began logged under its
// X-Collide-Op id, before routing; Service.Arrivals and GET
// /_collide/arrivals read the log (at most 100 000 ops), DELETE empties
// it. It measures how tightly a burst reached the server. See arrivals.go.
//
// OpenAPI: GET /openapi.json serves demo/openapi.json (OpenAPI), an
// OpenAPI 3 document of every route with working examples; the route
// table (routeTable) the mux is built from is what a test compares it with.
//
// Protocols: Service.HTTPServer (used by collide demo and stacks.StartDemo)
// serves HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c) on one
// port.
//
// The package knows nothing of the harness: it is only a target.
package demo
