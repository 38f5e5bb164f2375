package demo

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
)

// The concurrent collection add race class (audit RC-003): different users
// add an item to the same project at once; every add must survive.
//
// racy: the ORM "replace the collection" save: read the project's items
// into memory, think, append the new item, then in one transaction DELETE
// every row of the project and INSERT the whole in-memory list again. The
// saves themselves are serialised (PostgreSQL: LOCK TABLE project_items IN
// SHARE ROW EXCLUSIVE MODE, like a flush that locks the aggregate root;
// MariaDB: SELECT … FOR UPDATE of the root's row in table_locks; SQLite:
// BEGIN IMMEDIATE), so the only bug is the stale list: each save
// writes back the list it read plus its own item, deleting what the others
// added meanwhile. Concurrent adds answer 201 and are lost.
//
// safe: think, then INSERT the one new row. Items are not deduplicated:
// adding the same string twice stores it twice, in both modes.

// itemAddBody is the response of POST /projects/{id}/items.
type itemAddBody struct {
	ProjectID int64  `json:"project_id"`
	Item      string `json:"item"`
	// Count is the number of items after the add as the handler saw it
	// (racy: the list it wrote back; safe: a count read after the insert).
	Count int64 `json:"count"`
}

// itemListBody is the response of GET /projects/{id}/items.
type itemListBody struct {
	ProjectID int64    `json:"project_id"`
	Count     int      `json:"count"`
	Items     []string `json:"items"` // in insertion order; [] when none
}

const itemShape = `{"item":"..."}`

// insertChunk is how many rows one multi-row INSERT re-inserts in the racy
// save (2 parameters each: well below both drivers' limits).
const insertChunk = 250

func (s *Service) handleListItems(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "project")
	if !ok {
		return
	}
	items, err := s.projectItems(r.Context(), s.db, id)
	if err != nil {
		writeDBError(w, fmt.Sprintf("list items of project %d", id), err)
		return
	}
	writeJSON(w, http.StatusOK, itemListBody{ProjectID: id, Count: len(items), Items: items})
}

func (s *Service) handleAddItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "project")
	if !ok {
		return
	}
	var body struct {
		Item *string `json:"item"`
	}
	if !decodeBody(w, r, &body, itemShape) {
		return
	}
	if body.Item == nil || *body.Item == "" {
		missing(w, "item", itemShape)
		return
	}
	add := s.addItemSafe
	if s.cfg.Mode == modeRacy {
		add = s.addItemRacy
	}
	n, err := add(r.Context(), id, *body.Item)
	if err != nil {
		writeDBError(w, fmt.Sprintf("add item to project %d", id), err)
		return
	}
	writeJSON(w, http.StatusCreated, itemAddBody{ProjectID: id, Item: *body.Item, Count: n})
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// projectItems lists a project's items in insertion order; never nil.
func (s *Service) projectItems(ctx context.Context, q querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, s.dialect.q(`SELECT item FROM project_items WHERE project_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	items := []string{}
	for rows.Next() {
		var it string
		if err := rows.Scan(&it); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return items, nil
}

// addItemRacy replaces the whole collection with the stale list plus item.
func (s *Service) addItemRacy(ctx context.Context, id int64, item string) (int64, error) {
	items, err := s.projectItems(ctx, s.db, id)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	items = append(items, item)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	if s.dialect.lockProjectItems != "" {
		if _, err := tx.ExecContext(ctx, s.dialect.lockProjectItems); err != nil {
			return 0, fmt.Errorf("lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.dialect.q(`DELETE FROM project_items WHERE project_id = ?`), id); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	for start := 0; start < len(items); start += insertChunk {
		chunk := items[start:min(start+insertChunk, len(items))]
		args := make([]any, 0, 2*len(chunk))
		for _, it := range chunk {
			args = append(args, id, it)
		}
		query := `INSERT INTO project_items (project_id, item) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")
		if _, err := tx.ExecContext(ctx, s.dialect.q(query), args...); err != nil {
			return 0, fmt.Errorf("insert: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int64(len(items)), nil
}

// addItemSafe inserts the one new row.
func (s *Service) addItemSafe(ctx context.Context, id int64, item string) (int64, error) {
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ctx, s.dialect.q(`INSERT INTO project_items (project_id, item) VALUES (?, ?)`), id, item); err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT COUNT(*) FROM project_items WHERE project_id = ?`), id).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}
