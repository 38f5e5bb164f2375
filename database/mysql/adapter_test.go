package mysql_test

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
)

// TestAdapter runs the shared adapter suite on the real MySQL/MariaDB
// server.
func TestAdapter(t *testing.T) {
	d := dbtest.DialectOf("mysql")
	dbtest.RunAdapterSuite(t, "mysql", d.Opener(t), dbtest.SQLStatements(d))
}

func TestOpenUnreachable(t *testing.T) {
	dbtest.RunUnreachable(t, "mysql",
		"collide:s3cr3t-pw@tcp(127.0.0.1:1)/collide?timeout=5s",
		"mysql://collide:s3cr3t-pw@127.0.0.1:1/collide",
		"mariadb://collide:s3cr3t-pw@127.0.0.1:1/collide",
	)
}
