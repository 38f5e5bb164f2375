// Package invariants owns the checkers that decide, after a run, whether the
// service kept its promises, and the database adapters they read through.
//
// # Checkers
//
// A checker is built from a profile invariant by New, which finds the
// registered Factory by name (inv.Check, or "expect" when Expect is set,
// "unique" when Unique is set). Factories compile and validate everything
// they can, so a typo fails when the profile loads, not after the attack.
// Checkers register themselves in init with Register, one file each:
//
//	expect  Query's result and the history tally make an expression true
//	unique  no two rows of a query are equal
//
// Check returns a Result with Verdict pass, fail or error. A checker that
// cannot look (query error, database down, expression error, a result that
// is not a boolean, an unknown operation name) gives error with Result.Error
// set, never pass. Checkers do not return unknown themselves: the harness
// turns a pass into unknown when too many ops ended unknown (the profile's
// verdict.max_unknown).
//
// # The harness's part
//
//   - Open the database with Open(ctx, driver, dsn) directly, not through the
//     chaos proxy, and pass it in Env.DB.
//   - After setup and before the attack, call Prepare on every checker that
//     implements Preparer (expect does), with the same kind of Env as later.
//     A Prepare error means the check cannot be sound: report it; the later
//     Check reports it again as an error verdict.
//   - After settling, call Check with Env.Tally (history.Writer.Tally()),
//     Env.HistoryPath and, preferably, Env.Operations (the profile's
//     operation names, so an operation that sent nothing counts zero instead
//     of being an unknown name).
//
// # expect
//
// Query (optional) runs at check time. The expression, in the expr-lang
// language (https://expr-lang.org), sees:
//
//	value, …           each column of the FIRST row, by name
//	rows               every row, as a list of maps: all(rows, .balance >= 0)
//	count              the number of rows (a column named count replaces it)
//	before             the first row of the same query run by Prepare, after
//	                   setup and before the attack: value - before.value
//	$env["sum(x)"]     a column whose name is not an identifier
//	ok("op"), fail("op"), unknown("op"), total("op")
//	                   outcome counts of one operation; ok() … total() sum
//	                   over all operations
//
// Database integers become int, like the counts, and NUMERIC values int or
// float64, so `value <= ok("incr") + unknown("incr")` works for PostgreSQL
// BIGINT and NUMERIC and SQLite INTEGER alike. Columns named like history
// functions, rows or before are reachable only through rows[0]. NULL is nil.
// The whole result is read into memory: aggregate in SQL (count, sum, a
// WHERE that selects the violations) rather than returning a big table.
//
// At load time New rejects syntax errors, unknown functions, history
// functions called with other than one string or nothing, expressions that
// are certainly not boolean, and, without a query, any name other than the
// history functions. At check time a name the query does not return, an
// empty result when the expression reads columns, or `before` without a
// successful Prepare is an error, not false.
//
// Result.Actual lists the values the expression read, in order:
// `value=812, before.value=0, ok("incr")=1000, unknown("incr")=3`. On a fail
// with several rows, Evidence shows the first rows.
//
// Soundness under unknown outcomes is the profile's job, following Jepsen's
// rule: an op whose response never arrived may or may not have taken
// effect, so an exact counter must be written as the bound
//
//	value - before.value >= ok("incr") && value - before.value <= ok("incr") + unknown("incr")
//
// never `value == total("incr")`. The checker evaluates what it is given.
//
// # unique
//
// Unique (or Query with check: unique) is streamed row by row; rows whose
// columns are all equal are duplicates (values compared by type and text, so
// the integer 5 and the text '5' differ). Rows with a NULL in any column are
// skipped, as a SQL UNIQUE constraint treats NULLs as distinct; Actual says
// how many. A million rows cost well under two seconds. A failure carries
// Anomaly "duplicate", Evidence such as `"k-17" ×3` (most repeated first, at
// most ten) and the usual fixes.
//
// # Database adapters
//
// DB is the small interface checkers use: Exec, Query (all rows), Each
// (streaming) and Close, with values normalized to int64, float64, string,
// bool, time.Time or nil. Adapters register by driver name with
// RegisterDriver:
//
//	postgres  pgx through database/sql; URL or key=value DSN; NUMERIC becomes
//	          int64 when integral, float64 otherwise
//	sqlite    modernc.org/sqlite; a file path or file: URI, opened with
//	          busy_timeout(10000) and WAL unless the DSN says otherwise;
//	          BOOLEAN columns become bool, DATE/DATETIME/TIMESTAMP time.Time
//
// Open pings the database; its errors show the DSN through RedactDSN and
// never the password.
//
// The package does not know how load was generated: it reads the tally and
// the history file only.
package invariants
