package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
)

// TestAdapter runs the shared adapter suite on SQLite files.
func TestAdapter(t *testing.T) {
	d := dbtest.DialectOf("sqlite")
	dbtest.RunAdapterSuite(t, "sqlite", d.Opener(t), dbtest.SQLStatements(d))
}

func TestOpenMissingDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, "sqlite", "/nonexistent-dir/sub/collide.db")
	if err == nil {
		db.Close()
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "/nonexistent-dir/sub/collide.db") {
		t.Errorf("error should name the file: %v", err)
	}
}
