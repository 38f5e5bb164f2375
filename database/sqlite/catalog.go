package sqlite

import (
	"context"
	"fmt"

	"github.com/collide-dev/collide/database"
)

// uniqueKeysSQL lists the columns of every non-partial unique index
// (explicit, UNIQUE constraints and non-rowid primary keys: origin c, u,
// pk) and of every table's primary key (a rowid alias has no index), one
// row per column in order. An expression column has a NULL name.
const uniqueKeysSQL = `SELECT m.name, il.name, ii.name, ii.seqno
FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
WHERE m.type = 'table' AND il."unique" = 1 AND il.partial = 0
UNION ALL
SELECT m.name, ' pk', p.name, p.pk
FROM sqlite_master m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND p.pk > 0
ORDER BY 1, 2, 4`

// UniqueKeys reads the unique column sets with pragma index_list,
// index_info and table_info (see database.UniqueKeyReader).
func (Driver) UniqueKeys(ctx context.Context, db database.DB) (map[string][][]string, error) {
	rows, err := db.Query(ctx, uniqueKeysSQL)
	if err != nil {
		return nil, fmt.Errorf("read unique indexes with pragma index_list: %w", err)
	}
	return database.GroupUniqueKeys(rows.Values), nil
}

var _ database.UniqueKeyReader = Driver{}
