package mysql

import (
	"context"
	"fmt"

	"github.com/collide-dev/collide/database"
)

// uniqueKeysSQL lists the columns of every unique index (NON_UNIQUE = 0:
// the primary key, unique keys) of the current database, one row per
// column in index order. A functional key part has a NULL COLUMN_NAME; a
// prefix key part (SUB_PART set) does not make the whole column unique,
// so it is reported as NULL too and the index left out.
const uniqueKeysSQL = `SELECT TABLE_NAME, INDEX_NAME,
  CASE WHEN SUB_PART IS NULL THEN COLUMN_NAME END, SEQ_IN_INDEX
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`

// UniqueKeys reads the unique column sets from information_schema (see
// database.UniqueKeyReader).
func (Driver) UniqueKeys(ctx context.Context, db database.DB) (map[string][][]string, error) {
	rows, err := db.Query(ctx, uniqueKeysSQL)
	if err != nil {
		return nil, fmt.Errorf("read unique indexes from information_schema.STATISTICS: %w", err)
	}
	return database.GroupUniqueKeys(rows.Values), nil
}

var _ database.UniqueKeyReader = Driver{}
