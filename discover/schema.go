package discover

import (
	"context"
	"fmt"

	"github.com/collide-dev/collide/database"
)

// ReadSchema reads from db's catalog the unique column sets of its tables
// (primary keys, unique indexes, unique constraints). The driver must
// implement database.UniqueKeyReader (postgres, mysql, sqlite do); the
// driver must be registered (import database/all).
func ReadSchema(ctx context.Context, db database.DB) (Schema, error) {
	d, err := database.Lookup(db.Driver())
	if err != nil {
		return Schema{}, fmt.Errorf("read schema: %w", err)
	}
	r, ok := d.(database.UniqueKeyReader)
	if !ok {
		return Schema{}, fmt.Errorf("read schema: driver %s has no catalog of unique keys", d.Name())
	}
	keys, err := r.UniqueKeys(ctx, db)
	if err != nil {
		return Schema{}, fmt.Errorf("read schema: %w", err)
	}
	return Schema{Unique: keys}, nil
}
