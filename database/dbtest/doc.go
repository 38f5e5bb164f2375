// Package dbtest is for tests only: it gives tests real databases — a
// fresh SQLite file, a private PostgreSQL schema, MySQL/MariaDB database
// or Redis database number on the servers .ci/run starts (COLLIDE_TEST_PG_DSN,
// COLLIDE_TEST_MYSQL_DSN, COLLIDE_TEST_REDIS_URL) — and the adapter suite
// every driver's tests run (RunAdapterSuite). An unreachable server skips
// the test with the reason, or fails it under CI=true.
package dbtest
