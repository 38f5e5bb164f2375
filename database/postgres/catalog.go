package postgres

import (
	"context"
	"fmt"

	"github.com/collide-dev/collide/database"
)

// uniqueKeysSQL lists the key columns of every valid, non-partial unique
// index (primary keys and unique constraints are unique indexes) of the
// tables in the schemas of the search path, one row per column in index
// order. Indexes on an expression (an indkey of 0) are left out.
const uniqueKeysSQL = `SELECT c.relname::text, ic.relname::text, a.attname::text, k.ord
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND NOT (0 = ANY (i.indkey::int2[]))
  AND k.ord <= i.indnkeyatts
  AND n.nspname = ANY (current_schemas(false))
ORDER BY 1, 2, 4`

// UniqueKeys reads the unique column sets from pg_index (see
// database.UniqueKeyReader).
func (Driver) UniqueKeys(ctx context.Context, db database.DB) (map[string][][]string, error) {
	rows, err := db.Query(ctx, uniqueKeysSQL)
	if err != nil {
		return nil, fmt.Errorf("read unique indexes from pg_index: %w", err)
	}
	return database.GroupUniqueKeys(rows.Values), nil
}

var _ database.UniqueKeyReader = Driver{}
