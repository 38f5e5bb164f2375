package discover

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
)

// TestReadSchema creates, on each SQL database, a primary key, a composite
// unique constraint, a unique index, a plain index and (where the database
// has them) a partial unique index, and reads back exactly the unique
// column sets.
func TestReadSchema(t *testing.T) {
	t.Parallel()
	common := []string{
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, idempotency_key VARCHAR(64), item VARCHAR(64))`,
		`CREATE INDEX orders_key_idx ON orders (idempotency_key)`,
		`CREATE TABLE favorites (id INTEGER PRIMARY KEY, resource_id INTEGER, user_id INTEGER, UNIQUE (resource_id, user_id))`,
		`CREATE TABLE events (event_id VARCHAR(64) NOT NULL, note VARCHAR(64))`,
		`CREATE UNIQUE INDEX events_id_idx ON events (event_id)`,
	}
	partial := `CREATE UNIQUE INDEX orders_live_idx ON orders (item) WHERE idempotency_key IS NOT NULL`
	want := map[string][][]string{
		"orders":    {{"id"}},
		"favorites": {{"id"}, {"resource_id", "user_id"}},
		"events":    {{"event_id"}},
	}
	cases := []struct {
		name    string
		open    func(t *testing.T) database.DB
		partial bool
	}{
		{"sqlite", dbtest.SQLite, true},
		{"postgres", dbtest.Postgres(t), true},
		{"mysql", dbtest.MySQL(t), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stmts := common
			if tc.partial {
				stmts = append(append([]string(nil), common...), partial)
			}
			for _, s := range stmts {
				if err := db.Exec(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			got, err := ReadSchema(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Unique, want) {
				t.Errorf("unique keys:\n got %v\nwant %v", got.Unique, want)
			}
		})
	}
}
