package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The bulk + individual race class (audit RC-005): a bulk operation sets
// price and batch on every row of items while single edits hit some rows.
// Afterwards every row must hold one bulk's values (the same batch on all
// rows, its price with it) and no individual edit may be lost.
//
// racy bulk: read every row, think, then write each row back whole, one
// autocommit UPDATE per row (price and batch from the request, edits as
// read), in no particular order (like a job handing rows to workers: the
// rows are shuffled with the service's seeded source), pausing a random
// [0, Think) between rows. Concurrent bulks interleave row by row (rows end
// with mixed batches), and an edit made between the bulk's read and its
// write of that row is overwritten (lost).
//
// safe bulk: think, then one statement UPDATE items SET price = ?, batch =
// ? that leaves edits alone (on PostgreSQL preceded, in its transaction, by
// SELECT id FROM items ORDER BY id FOR UPDATE, so concurrent bulks lock the
// rows in one order and cannot deadlock); concurrent bulks apply one after
// the other.
//
// The individual edit is the same in both modes, an atomic UPDATE items
// SET edits = edits + 1: the bug is the bulk's stale whole-row write.

// bulkBody is the response of POST /items/bulk.
type bulkBody struct {
	Batch int64 `json:"batch"`
	Price int64 `json:"price"`
	Rows  int64 `json:"rows"` // rows written
}

// itemBody is one row of items: the response of an edit, and an entry of
// GET /items.
type itemBody struct {
	ID    int64 `json:"id"`
	Price int64 `json:"price"`
	Batch int64 `json:"batch"`
	Edits int64 `json:"edits"`
}

// itemsBody is the response of GET /items.
type itemsBody struct {
	Count int        `json:"count"`
	Items []itemBody `json:"items"` // by id; [] when none
}

const bulkShape = `{"batch":N,"price":P}`

func (s *Service) handleListBulkItems(w http.ResponseWriter, r *http.Request) {
	items, err := s.readItems(r.Context())
	if err != nil {
		writeDBError(w, "list items", err)
		return
	}
	writeJSON(w, http.StatusOK, itemsBody{Count: len(items), Items: items})
}

func (s *Service) handleBulk(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Batch *int64 `json:"batch"`
		Price *int64 `json:"price"`
	}
	if !decodeBody(w, r, &body, bulkShape) {
		return
	}
	if body.Batch == nil {
		missing(w, "batch", bulkShape)
		return
	}
	if body.Price == nil {
		missing(w, "price", bulkShape)
		return
	}
	bulk := s.bulkSafe
	if s.cfg.Mode == modeRacy {
		bulk = s.bulkRacy
	}
	n, err := bulk(r.Context(), *body.Batch, *body.Price)
	if err != nil {
		writeDBError(w, fmt.Sprintf("bulk update to batch %d", *body.Batch), err)
		return
	}
	writeJSON(w, http.StatusOK, bulkBody{Batch: *body.Batch, Price: *body.Price, Rows: n})
}

func (s *Service) handleEditItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "item")
	if !ok {
		return
	}
	it := itemBody{ID: id}
	err := s.updateReturning(r.Context(), nil, "items", id,
		`UPDATE items SET edits = edits + 1 WHERE id = ?`, []any{id}, "price, batch, edits", &it.Price, &it.Batch, &it.Edits)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("item %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("edit item %d", id), err)
	default:
		writeJSON(w, http.StatusOK, it)
	}
}

// readItems returns every row of items by id; never nil.
func (s *Service) readItems(ctx context.Context) ([]itemBody, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, price, batch, edits FROM items ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	items := []itemBody{}
	for rows.Next() {
		var it itemBody
		if err := rows.Scan(&it.ID, &it.Price, &it.Batch, &it.Edits); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return items, nil
}

// bulkRacy writes every row back whole from a stale read, row by row.
func (s *Service) bulkRacy(ctx context.Context, batch, price int64) (int64, error) {
	items, err := s.readItems(ctx)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	s.shuffle(items)
	var n int64
	for i, it := range items {
		if i > 0 {
			if err := sleep(ctx, s.randDuration(s.cfg.Think)); err != nil {
				return n, fmt.Errorf("pause: %w", err)
			}
		}
		res, err := s.db.ExecContext(ctx, s.dialect.q(`UPDATE items SET price = ?, batch = ?, edits = ? WHERE id = ?`),
			price, batch, it.Edits, it.ID)
		if err != nil {
			return n, fmt.Errorf("write item %d: %w", it.ID, err)
		}
		if k, err := res.RowsAffected(); err == nil {
			n += k
		}
	}
	return n, nil
}

// shuffle puts items in a random order drawn from the service's source.
func (s *Service) shuffle(items []itemBody) {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	s.rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
}

// bulkSafe sets price and batch on every row in one statement. On
// PostgreSQL and MariaDB it first locks the rows in id order, in the same
// transaction: two bulk UPDATEs scanning the heap could otherwise lock rows
// in different orders (updated rows move) and deadlock.
func (s *Service) bulkSafe(ctx context.Context, batch, price int64) (int64, error) {
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	if s.dialect.forUpdate != "" {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM items ORDER BY id`+s.dialect.forUpdate); err != nil {
			return 0, fmt.Errorf("lock: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, s.dialect.q(`UPDATE items SET price = ?, batch = ?`), price, batch)
	if err != nil {
		return 0, fmt.Errorf("update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}
