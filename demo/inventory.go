package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The oversell class: concurrent purchases of the last units in stock.
// There must never be more purchases than the initial stock, stock must
// never go negative, and stock + purchases must stay constant.
//
// racy: SELECT stock; if it is 0 or less, 409 sold out; think; then in one
// transaction INSERT the purchase and UPDATE products SET stock = stock - 1.
// Concurrent buyers pass the check together: more purchases than stock,
// negative stock (the decrement is atomic, so stock + purchases holds).
//
// safe: think, then one transaction: UPDATE products SET stock = stock - 1
// WHERE id = ? AND stock > 0; no row means sold out (409) and nothing is
// inserted; else INSERT the purchase and commit.

// purchaseBody is the response of POST /products/{id}/purchase.
type purchaseBody struct {
	PurchaseID int64  `json:"purchase_id"`
	ProductID  int64  `json:"product_id"`
	Buyer      string `json:"buyer"`
	Stock      int64  `json:"stock"` // after this purchase
}

// productBody is the response of GET /products/{id}.
type productBody struct {
	ID        int64 `json:"id"`
	Stock     int64 `json:"stock"`
	Purchases int64 `json:"purchases"`
}

// soldOutBody is the 409 of a purchase when the stock is gone.
type soldOutBody struct {
	Error string `json:"error"`
	Stock int64  `json:"stock"` // the stock the check saw
}

// errSoldOut is the 409 message of a refused purchase.
const errSoldOut = "sold out"

const purchaseShape = `{"buyer":"..."} (buyer optional)`

// purchaseResult is what a purchase implementation decided.
type purchaseResult struct {
	id       int64
	stock    int64
	soldOut  bool
	notFound bool
}

func (s *Service) handleGetProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "product")
	if !ok {
		return
	}
	p := productBody{ID: id}
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(
		`SELECT stock, (SELECT COUNT(*) FROM purchases WHERE product_id = ?) FROM products WHERE id = ?`), id, id).Scan(&p.Stock, &p.Purchases)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("product %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read product %d", id), err)
	default:
		writeJSON(w, http.StatusOK, p)
	}
}

func (s *Service) handlePurchase(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "product")
	if !ok {
		return
	}
	var body struct {
		Buyer string `json:"buyer"`
	}
	if !decodeOptionalBody(w, r, &body, purchaseShape) {
		return
	}
	purchase := s.purchaseSafe
	if s.cfg.Mode == modeRacy {
		purchase = s.purchaseRacy
	}
	res, err := purchase(r.Context(), id, body.Buyer)
	switch {
	case err != nil:
		writeDBError(w, fmt.Sprintf("purchase product %d", id), err)
	case res.notFound:
		writeError(w, http.StatusNotFound, fmt.Sprintf("product %d not found", id))
	case res.soldOut:
		writeJSON(w, http.StatusConflict, soldOutBody{Error: errSoldOut, Stock: res.stock})
	default:
		writeJSON(w, http.StatusCreated, purchaseBody{PurchaseID: res.id, ProductID: id, Buyer: body.Buyer, Stock: res.stock})
	}
}

// purchaseRacy checks the stock, thinks, then sells without re-checking.
func (s *Service) purchaseRacy(ctx context.Context, id int64, buyer string) (purchaseResult, error) {
	var stock int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT stock FROM products WHERE id = ?`), id).Scan(&stock)
	if errors.Is(err, sql.ErrNoRows) {
		return purchaseResult{notFound: true}, nil
	}
	if err != nil {
		return purchaseResult{}, fmt.Errorf("read: %w", err)
	}
	if stock <= 0 {
		return purchaseResult{soldOut: true, stock: stock}, nil
	}
	if err := s.think(ctx); err != nil {
		return purchaseResult{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return purchaseResult{}, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	var res purchaseResult
	err = s.updateReturning(ctx, tx, "products", id, `UPDATE products SET stock = stock - 1 WHERE id = ?`, []any{id}, "stock", &res.stock)
	if errors.Is(err, sql.ErrNoRows) {
		return purchaseResult{notFound: true}, nil
	}
	if err != nil {
		return purchaseResult{}, fmt.Errorf("decrement: %w", err)
	}
	if res.id, err = s.insertPurchase(ctx, tx, id, buyer); err != nil {
		return purchaseResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return purchaseResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// purchaseSafe decrements only stock that is there, then records the sale.
func (s *Service) purchaseSafe(ctx context.Context, id int64, buyer string) (purchaseResult, error) {
	if err := s.think(ctx); err != nil {
		return purchaseResult{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return purchaseResult{}, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	var res purchaseResult
	err = s.updateReturning(ctx, tx, "products", id,
		`UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0`, []any{id}, "stock", &res.stock)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, s.dialect.q(`SELECT stock FROM products WHERE id = ?`), id).Scan(&res.stock)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return purchaseResult{notFound: true}, nil
		case err != nil:
			return purchaseResult{}, fmt.Errorf("read: %w", err)
		}
		return purchaseResult{soldOut: true, stock: res.stock}, nil
	}
	if err != nil {
		return purchaseResult{}, fmt.Errorf("decrement: %w", err)
	}
	if res.id, err = s.insertPurchase(ctx, tx, id, buyer); err != nil {
		return purchaseResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return purchaseResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

func (s *Service) insertPurchase(ctx context.Context, tx *sql.Tx, product int64, buyer string) (int64, error) {
	id, err := s.insertID(ctx, tx, `INSERT INTO purchases (product_id, buyer) VALUES (?, ?)`, product, buyer)
	if err != nil {
		return 0, fmt.Errorf("insert purchase: %w", err)
	}
	return id, nil
}
