// Package invariants owns the checkers that decide, after a run, whether the
// service kept its promises. They read the database through database.DB;
// the drivers live in package database and its subpackages.
//
// # Checkers
//
// A checker is built from a profile invariant by New, which finds the
// registered Kind by name (inv.Check, or "expect" when the invariant sets
// expect, "unique" when it sets unique: Kind.Shorthand), decodes the
// invariant's checker fields (inv.Fields) strictly into the Kind's fields
// struct, applies its defaults and calls its constructor. Constructors
// compile and validate everything they can, so a typo fails when the
// profile loads, not after the attack. Each checker is one file: its fields
// struct, constructor and Check, and one Register call in init; shared
// helpers are in helpers.go (docs/extending.md walks through adding one):
//
//	expect          Query's result and the history tally make an expression true
//	unique          no two rows of a query are equal
//	counter         a number grows by the increments that took effect (RC-006)
//	conservation    a number (total money) stays as it was after setup
//	never_negative  no value of a query is below zero (oversell, overdraft)
//	bounded_debits  a balance falls by the debits that took effect; optional floor
//	exactly_one     at most one request per key succeeds (double submit, RC-001)
//	newest_wins     the stored result is the newest acknowledged job's (RC-004)
//	no_lost_update  versions grow by the acknowledged writes (two-tab edit, RC-002)
//	all_present     every acknowledged add is there, nothing else (RC-003)
//	locks           lock holds never overlap, dead holders' locks expire (RC-007)
//	linearizable    reads and writes of each key form a linearizable register
//
// Check returns a Result with Verdict pass, fail or error, and says in words
// what had to hold (Expected) and what was found (Actual). A failure names
// the race class (Anomaly), shows at most ten items of evidence (keys, rows,
// ops with their invoke and complete times) and the usual fixes (Fix). A
// checker that cannot look (query error, database down, expression error, a
// result that is not a boolean, an unknown operation name, a missing history
// file, an ok op without its capture) gives error with Result.Error set,
// never pass. A checker returns unknown itself when it cannot decide:
// linearizable when its search outlasts its timeout, counter and
// bounded_debits when unknown ops lost the amount value_from takes from a
// capture; the harness also turns a pass into unknown when too many ops
// ended unknown (the profile's verdict.max_unknown).
//
// Every checker is sound under unknown outcomes (Jepsen's rule): an ok op
// took effect, a fail op did not, an unknown op may have. So bounds count
// ok ops as applied and unknown ops as either, and a state that only an
// applied unknown op explains passes. An unknown op's captures are lost
// with its response: a value the service assigned (an id, a job number, a
// lock name, the key named by group) that it never returned is bounded, not
// required — such an op may have added one unseen item, written a newer
// value, acted on any one key. TestSoundUnderUnknown holds this over
// generated runs.
//
// # The harness's part
//
//   - Open the database with database.Open(ctx, driver, dsn) directly, not
//     through the chaos proxy, and pass it in Env.DB (through BindVars, so
//     that {{name}} variables become bind parameters of the driver's
//     syntax).
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
// # History-aware checkers
//
// The checkers below read the run's history (Env.HistoryPath, or for counter
// and bounded_debits with a fixed step just the tally). Fields are each
// checker's own (its fields struct) besides the common query and op;
// docs/profiles.md has the YAML. Op names the operation;
// it must be one of the profile's. A value named by value_from, version_from
// or group is looked up in the op's rendered request values (Values: seq,
// uuid, key, values captured by earlier flow steps) and then in its response
// captures (Captures). Keys are the ops' history keys unless group names a
// value. Database keys and values are compared with history values as text,
// integral numbers without a fraction, so the column 17 and the capture 17.0
// match. Numbers are compared exactly (math/big): 0.1 + 0.2 = 0.3.
//
// counter (query, op, step | value_from): Prepare reads the number; after
// the attack Δ = after − before must satisfy ok×step ≤ Δ ≤ (ok+unknown)×step.
// Below: "lost update" (N acknowledged increments missing); above: "phantom
// increments / double apply". With value_from each op adds its own amount.
//
// conservation (query): the number must equal its value after setup;
// "<unit> created" or "<unit> destroyed", in the profile's unit ("units of
// stock created"), or "conserved total created" when it names none.
//
// per_key (counter, conservation, bounded_debits): query gives (key,
// number) rows, and each key is judged as above on its own, with its own
// before and after and only the ops whose key (or group value) it is, so
// each key's bound is sound under unknown. Any failing key fails the
// invariant; the evidence names the failing keys. A key that must be judged
// but has no row before or after is an error. KeyValues runs an operation's
// keys query for the harness, rendering keys as this package compares them.
//
// never_negative (query): rows of (key, value…), streamed; any negative
// value fails with the most negative rows as evidence; "oversell / overdraft
// (TOCTOU)". NULLs are skipped; text that is not a number is an error.
//
// bounded_debits (query, op, amount | value_from, floor): before −
// Σ(ok+unknown) ≤ after ≤ before − Σok. With floor, after ≥ floor and Σok ≤
// before − floor, else "oversell / overdraft (TOCTOU)" — this catches an
// oversell that a lost update hid.
//
// exactly_one (op, group, value_from, require): at most one ok op per key
// ("double submit"); with value_from, several ok answers carrying the same
// value (the winner's id replayed) count as one; with require, a key whose
// ops all failed (none unknown) fails too.
//
// newest_wins (query, op, version_from = seq, group): query gives (key,
// value) per key; per key, value ≥ the highest sequence of its ok ops and
// value is a sequence an ok or unknown op sent or the value after setup.
// Evidence shows the newer acknowledged job and the stale job that wrote
// last, with their times.
//
// no_lost_update (query, op, group, version_from): query gives (key,
// version); per key ok ≤ Δversion ≤ ok + unknown. With version_from (the
// base version a write carried), two ok writes of one key on the same base
// version fail even when the service bumps versions blindly.
//
// all_present (query, op, value_from): query gives the ids present; every
// value of an ok op is present ("lost insert"), nothing is present that no
// ok or unknown op sent and setup did not leave ("phantom item"), and no
// added value appears twice ("duplicate item").
//
// locks (op, ttl, slack = 500ms, group): ok ops capture acquired_at,
// released_at (server times, RFC 3339) and optionally holder and token;
// rejections are fail with status 409 or 423. No two ok holds of a key
// overlap ("two holders at once"); no two share a token; every rejection
// meets a window in which some request may hold the lock — an ok op's
// invoke…complete, an unknown op's invoke…complete + slack + ttl — else
// "lock never expired". The service side (Redis SET NX PX with a
// compare-and-delete release, PostgreSQL pg_try_advisory_xact_lock) is the
// demo's; the checker reads only the history.
//
// linearizable (read_op, write_op, value_from = seq, read_from = value,
// query, timeout = 10s): porcupine (github.com/anishathalye/porcupine)
// checks one register per key. Writes write their value_from; reads return
// their read_from capture (null when JSON null). Fail ops and unknown reads
// are left out; an unknown write returns at the end of the history, and one
// whose value no read returned is left out (it changes no verdict). With
// query, (key, value) rows after setup are the initial values; without, a
// key's initial value is whatever its first linearized read saw. Concurrent
// reads of one value after its (unique) write are merged before the search.
// A failure writes porcupine's HTML visualization as
// linearizability-<name>.html next to the history. 10,000 ops over 100 keys
// check in about 0.2 s; the search's cost grows exponentially with the
// concurrent ops of one key, so keep about ten or fewer clients per key
// (spread load with keys); past the timeout the verdict is unknown.
//
// The package does not know how load was generated: it reads the tally and
// the history file only.
package invariants
