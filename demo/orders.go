package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The double-submit race class (audit RC-001): the same create request, with
// the same Idempotency-Key, sent several times at once.
//
// racy: SELECT the order with that key; if none, think, then INSERT. Every
// request that checks before the first insert lands creates its own order:
// check-then-act duplicates.
//
// safe: in one transaction, INSERT the key into idempotency_keys (its primary
// key admits one winner); the winner thinks, inserts the order, records its
// id on the key row and commits. A loser's insert waits until the winner's
// transaction ends (PostgreSQL, MariaDB: on the unique index entry; SQLite:
// on the write lock), then it rolls back and reads the key row: an order id means a
// replay (200, the winner's id); none means the key is reserved by a request
// still in progress (409). Since the key and its order commit together, the
// 409 is seen only for key rows written by something else.

// idempotencyHeader is the request header carrying the idempotency key.
const idempotencyHeader = "Idempotency-Key"

// orderBody is the response of POST /orders.
type orderBody struct {
	ID             int64  `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
	Replayed       bool   `json:"replayed"`
}

// orderRow is one order in the response of GET /orders.
type orderRow struct {
	ID             int64     `json:"id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Item           string    `json:"item"`
	CreatedAt      time.Time `json:"created_at"`
}

// listBody is the response of GET /orders?key=K.
type listBody struct {
	Key    string     `json:"key"`
	Count  int        `json:"count"`
	Orders []orderRow `json:"orders"` // oldest first; [] when none
}

// orderResult is what a create implementation decided.
type orderResult struct {
	id       int64
	replayed bool // an order for the key existed already
	busy     bool // the key is reserved but its order is not visible yet
}

// errInProgress is the 409 message for a reserved key without an order.
const errInProgress = "request with this key in progress"

// safeAttempts bounds how often the safe path retries when it lost the race
// for a key but then found no key row (its holder rolled back meanwhile).
const safeAttempts = 3

func (s *Service) handleCreateOrder(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(idempotencyHeader)
	if strings.TrimSpace(key) == "" {
		writeError(w, http.StatusBadRequest, "missing "+idempotencyHeader+" header")
		return
	}
	var body struct {
		Item string `json:"item"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`body must be empty or {"item":"..."}: %v`, err))
		return
	}
	create := s.createOrderSafe
	if s.cfg.Mode == modeRacy {
		create = s.createOrderRacy
	}
	res, err := create(r.Context(), key, body.Item)
	switch {
	case err != nil:
		writeDBError(w, fmt.Sprintf("create order for key %q", key), err)
	case res.busy:
		writeError(w, http.StatusConflict, errInProgress)
	case res.replayed:
		writeJSON(w, http.StatusOK, orderBody{ID: res.id, IdempotencyKey: key, Replayed: true})
	default:
		writeJSON(w, http.StatusCreated, orderBody{ID: res.id, IdempotencyKey: key})
	}
}

// createOrderRacy is check-then-act: look for the key's order, think, insert.
func (s *Service) createOrderRacy(ctx context.Context, key, item string) (orderResult, error) {
	var id int64
	err := s.db.QueryRowContext(ctx,
		s.dialect.q(`SELECT id FROM orders WHERE idempotency_key = ? ORDER BY id LIMIT 1`), key).Scan(&id)
	if err == nil {
		return orderResult{id: id, replayed: true}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return orderResult{}, fmt.Errorf("look up order: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return orderResult{}, err
	}
	id, err = s.insertID(ctx, s.db, `INSERT INTO orders (idempotency_key, item) VALUES (?, ?)`, key, item)
	if err != nil {
		return orderResult{}, fmt.Errorf("insert order: %w", err)
	}
	return orderResult{id: id}, nil
}

// createOrderSafe reserves the key first; see the file comment.
func (s *Service) createOrderSafe(ctx context.Context, key, item string) (orderResult, error) {
	for range safeAttempts {
		created, id, err := s.reserveAndCreate(ctx, key, item)
		if err != nil {
			return orderResult{}, err
		}
		if created {
			return orderResult{id: id}, nil
		}
		var orderID sql.NullInt64
		err = s.db.QueryRowContext(ctx,
			s.dialect.q(`SELECT order_id FROM idempotency_keys WHERE `+s.dialect.key+` = ?`), key).Scan(&orderID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // the holder rolled back: try to reserve again
		case err != nil:
			return orderResult{}, fmt.Errorf("read key: %w", err)
		case orderID.Valid:
			return orderResult{id: orderID.Int64, replayed: true}, nil
		default:
			return orderResult{busy: true}, nil
		}
	}
	return orderResult{busy: true}, nil
}

// reserveAndCreate runs the safe path's transaction. It returns created ==
// false, with nothing changed, if the key was reserved already.
func (s *Service) reserveAndCreate(ctx context.Context, key, item string) (created bool, id int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if !created {
			_ = tx.Rollback() // nothing to undo, or the error is already reported
		}
	}()
	reserve := `INSERT INTO idempotency_keys (key) VALUES (?) ON CONFLICT DO NOTHING`
	if s.dialect.name == driverMySQL {
		reserve = "INSERT IGNORE INTO idempotency_keys (`key`) VALUES (?)"
	}
	res, err := tx.ExecContext(ctx, s.dialect.q(reserve), key)
	if err != nil {
		return false, 0, fmt.Errorf("reserve key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, 0, fmt.Errorf("reserve key: rows affected: %w", err)
	}
	if n == 0 {
		return false, 0, nil
	}
	if err := s.think(ctx); err != nil {
		return false, 0, err
	}
	id, err = s.insertID(ctx, tx, `INSERT INTO orders (idempotency_key, item) VALUES (?, ?)`, key, item)
	if err != nil {
		return false, 0, fmt.Errorf("insert order: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		s.dialect.q(`UPDATE idempotency_keys SET order_id = ? WHERE `+s.dialect.key+` = ?`), id, key); err != nil {
		return false, 0, fmt.Errorf("record order id: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, 0, fmt.Errorf("commit: %w", err)
	}
	return true, id, nil
}

func (s *Service) handleListOrders(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if key == "" {
		writeError(w, http.StatusBadRequest, "missing query parameter key")
		return
	}
	orders, err := s.listOrders(r.Context(), key)
	if err != nil {
		writeDBError(w, fmt.Sprintf("list orders for key %q", key), err)
		return
	}
	writeJSON(w, http.StatusOK, listBody{Key: key, Count: len(orders), Orders: orders})
}

// listOrders returns the orders stored for key, oldest first; never nil.
func (s *Service) listOrders(ctx context.Context, key string) ([]orderRow, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.q(
		`SELECT id, idempotency_key, item, created_at FROM orders WHERE idempotency_key = ? ORDER BY id`), key)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	orders := []orderRow{}
	for rows.Next() {
		var o orderRow
		if err := rows.Scan(&o.ID, &o.IdempotencyKey, &o.Item, &o.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return orders, nil
}
