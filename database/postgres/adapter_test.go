package postgres_test

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
)

// TestAdapter runs the shared adapter suite on the real PostgreSQL server.
func TestAdapter(t *testing.T) {
	d := dbtest.DialectOf("postgres")
	dbtest.RunAdapterSuite(t, "postgres", d.Opener(t), dbtest.SQLStatements(d))
}

func TestOpenUnreachable(t *testing.T) {
	dbtest.RunUnreachable(t, "postgres",
		"postgres://collide:s3cr3t-pw@127.0.0.1:1/collide?sslmode=disable&connect_timeout=5",
		"host=127.0.0.1 port=1 user=collide password=s3cr3t-pw dbname=collide sslmode=disable connect_timeout=5",
		"postgres://collide@127.0.0.1:1/collide?sslmode=disable&password=s3cr3t-pw",
	)
}
