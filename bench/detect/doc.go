// Command detect measures how reliably the built-in profiles detect their
// race: it runs every built-in profile N times against the racy demo and N
// times against the safe one (in-process, exactly as `collide run NAME`
// does, each run with a fresh seed) and prints, per profile, the share of
// racy runs that failed (detection rate), the median time from the first
// request to the first violation, the safe runs that did not pass (false
// positives), and the runs that ended in error or unknown.
//
//	go run ./bench/detect                     # every built-in, N=20, SQLite
//	go run ./bench/detect -n 50 -profiles locks,register
//	go run ./bench/detect -db postgres        # on PostgreSQL (a private database)
//	go run ./bench/detect -db mysql           # on MariaDB (a private database)
//	make bench-detect                         # the same, N=20, SQLite
//
// Time to first violation: for checkers whose violation shows in the history
// (no_lost_update with version_from: the second acknowledged write on one
// base version; locks: the second holder acquiring while the first holds;
// exactly_one: the second winner of a key), it is when that op completed (or,
// for locks, acquired), from the first request of the run. The other
// checkers judge the database's final state, whose history does not say when
// it went wrong: for them the figure is the time from the first request to
// the verdict, an upper bound, marked "verdict (bound)" in the basis column.
// The last column is a run's wall time, from starting the demo to the
// written result.
//
// On PostgreSQL and MariaDB the program creates a database of its own on the
// server of -dsn (default $COLLIDE_TEST_PG_DSN or $COLLIDE_TEST_MYSQL_DSN,
// else the local test server) and drops it at the end. Runs go one after the other: the figures are for an
// otherwise idle machine.
package main
