package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The TOCTOU debit class (time of check to time of use): concurrent debits
// or transfers at the limit of a balance. Balances must never go negative,
// and every balance must equal its initial value minus the acknowledged
// debits and outgoing transfers plus the incoming ones (conservation).
//
// debit racy: SELECT balance; if it is below the amount, 409; think; then
// UPDATE accounts SET balance = balance - amount. The decrement itself is
// atomic, only the check is stale: concurrent debits pass the check
// together and overdraw (negative balance), conservation still holds.
//
// debit safe: think, then the check and the debit in one statement: UPDATE
// ... SET balance = balance - amount WHERE id = ? AND balance >= amount; no
// row updated means insufficient funds (409).
//
// transfer racy: read both balances, check, think, then write both back as
// absolute values computed from the read (two autocommit UPDATEs, a random
// [0, Think) pause between them, like two service calls). Concurrent
// transfers overwrite each other's writes: money is created or destroyed.
//
// transfer safe: think, then one transaction that locks both rows in id
// order (SELECT ... ORDER BY id FOR UPDATE on PostgreSQL, so two opposite
// transfers cannot deadlock; SQLite's BEGIN IMMEDIATE serialises the
// transactions), debits conditionally (409 when short) and credits.

// accountBody is the response of GET /accounts/{id}.
type accountBody struct {
	ID      int64 `json:"id"`
	Balance int64 `json:"balance"`
}

// debitBody is the response of POST /accounts/{id}/debit.
type debitBody struct {
	ID      int64 `json:"id"`
	Amount  int64 `json:"amount"`
	Balance int64 `json:"balance"` // after the debit
}

// transferBody is the response of POST /accounts/transfer.
type transferBody struct {
	From        int64 `json:"from"`
	To          int64 `json:"to"`
	Amount      int64 `json:"amount"`
	FromBalance int64 `json:"from_balance"` // after the transfer, as written
	ToBalance   int64 `json:"to_balance"`
}

// fundsBody is the 409 of a debit or transfer that the balance does not
// cover.
type fundsBody struct {
	Error   string `json:"error"`
	Balance int64  `json:"balance"` // the balance the check saw
}

// errInsufficient is the 409 message of a refused debit or transfer.
const errInsufficient = "insufficient funds"

const (
	debitShape    = `{"amount":A} with A > 0`
	transferShape = `{"from":1,"to":2,"amount":A} with A > 0 and from != to`
)

// debitResult is what a debit or transfer implementation decided.
type debitResult struct {
	short    bool  // refused: insufficient funds
	balance  int64 // debit: balance after; short: balance seen
	toBal    int64 // transfer: the credited account's balance after
	notFound int64 // the id of a missing account, or 0
}

func (s *Service) handleGetAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "account")
	if !ok {
		return
	}
	var balance int64
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT balance FROM accounts WHERE id = ?`), id).Scan(&balance)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("account %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read account %d", id), err)
	default:
		writeJSON(w, http.StatusOK, accountBody{ID: id, Balance: balance})
	}
}

func (s *Service) handleDebit(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "account")
	if !ok {
		return
	}
	var body struct {
		Amount *int64 `json:"amount"`
	}
	if !decodeBody(w, r, &body, debitShape) {
		return
	}
	if body.Amount == nil {
		missing(w, "amount", debitShape)
		return
	}
	if *body.Amount <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body must be %s: amount %d is not positive", debitShape, *body.Amount))
		return
	}
	debit := s.debitSafe
	if s.cfg.Mode == modeRacy {
		debit = s.debitRacy
	}
	amount := *body.Amount
	res, err := debit(r.Context(), id, amount)
	switch {
	case err != nil:
		writeDBError(w, fmt.Sprintf("debit account %d", id), err)
	case res.notFound != 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("account %d not found", id))
	case res.short:
		writeJSON(w, http.StatusConflict, fundsBody{Error: errInsufficient, Balance: res.balance})
	default:
		writeJSON(w, http.StatusOK, debitBody{ID: id, Amount: amount, Balance: res.balance})
	}
}

// debitRacy checks the balance, thinks, then debits without re-checking.
func (s *Service) debitRacy(ctx context.Context, id, amount int64) (debitResult, error) {
	var balance int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT balance FROM accounts WHERE id = ?`), id).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		return debitResult{notFound: id}, nil
	}
	if err != nil {
		return debitResult{}, fmt.Errorf("read: %w", err)
	}
	if balance < amount {
		return debitResult{short: true, balance: balance}, nil
	}
	if err := s.think(ctx); err != nil {
		return debitResult{}, err
	}
	err = s.updateReturning(ctx, nil, "accounts", id,
		`UPDATE accounts SET balance = balance - ? WHERE id = ?`, []any{amount, id}, "balance", &balance)
	if errors.Is(err, sql.ErrNoRows) {
		return debitResult{notFound: id}, nil
	}
	if err != nil {
		return debitResult{}, fmt.Errorf("debit: %w", err)
	}
	return debitResult{balance: balance}, nil
}

// debitSafe checks and debits in one conditional statement.
func (s *Service) debitSafe(ctx context.Context, id, amount int64) (debitResult, error) {
	if err := s.think(ctx); err != nil {
		return debitResult{}, err
	}
	var balance int64
	err := s.updateReturning(ctx, nil, "accounts", id,
		`UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?`, []any{amount, id, amount}, "balance", &balance)
	if err == nil {
		return debitResult{balance: balance}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return debitResult{}, fmt.Errorf("debit: %w", err)
	}
	err = s.db.QueryRowContext(ctx, s.dialect.q(`SELECT balance FROM accounts WHERE id = ?`), id).Scan(&balance)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return debitResult{notFound: id}, nil
	case err != nil:
		return debitResult{}, fmt.Errorf("read: %w", err)
	}
	return debitResult{short: true, balance: balance}, nil
}

func (s *Service) handleTransfer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		From   *int64 `json:"from"`
		To     *int64 `json:"to"`
		Amount *int64 `json:"amount"`
	}
	if !decodeBody(w, r, &body, transferShape) {
		return
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"from", body.From}, {"to", body.To}, {"amount", body.Amount}} {
		if f.v == nil {
			missing(w, f.name, transferShape)
			return
		}
	}
	from, to, amount := *body.From, *body.To, *body.Amount
	if amount <= 0 || from == to {
		writeError(w, http.StatusBadRequest, "body must be "+transferShape)
		return
	}
	transfer := s.transferSafe
	if s.cfg.Mode == modeRacy {
		transfer = s.transferRacy
	}
	res, err := transfer(r.Context(), from, to, amount)
	switch {
	case err != nil:
		writeDBError(w, fmt.Sprintf("transfer %d from account %d to %d", amount, from, to), err)
	case res.notFound != 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("account %d not found", res.notFound))
	case res.short:
		writeJSON(w, http.StatusConflict, fundsBody{Error: errInsufficient, Balance: res.balance})
	default:
		writeJSON(w, http.StatusOK, transferBody{From: from, To: to, Amount: amount, FromBalance: res.balance, ToBalance: res.toBal})
	}
}

// transferRacy reads both balances, thinks, and writes both back as
// absolute values.
func (s *Service) transferRacy(ctx context.Context, from, to, amount int64) (debitResult, error) {
	var fromBal, toBal int64
	for _, a := range []struct {
		id  int64
		bal *int64
	}{{from, &fromBal}, {to, &toBal}} {
		err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT balance FROM accounts WHERE id = ?`), a.id).Scan(a.bal)
		if errors.Is(err, sql.ErrNoRows) {
			return debitResult{notFound: a.id}, nil
		}
		if err != nil {
			return debitResult{}, fmt.Errorf("read account %d: %w", a.id, err)
		}
	}
	if fromBal < amount {
		return debitResult{short: true, balance: fromBal}, nil
	}
	if err := s.think(ctx); err != nil {
		return debitResult{}, err
	}
	fromBal, toBal = fromBal-amount, toBal+amount
	if _, err := s.db.ExecContext(ctx, s.dialect.q(`UPDATE accounts SET balance = ? WHERE id = ?`), fromBal, from); err != nil {
		return debitResult{}, fmt.Errorf("write account %d: %w", from, err)
	}
	if err := sleep(ctx, s.randDuration(s.cfg.Think)); err != nil {
		return debitResult{}, fmt.Errorf("pause: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.dialect.q(`UPDATE accounts SET balance = ? WHERE id = ?`), toBal, to); err != nil {
		return debitResult{}, fmt.Errorf("write account %d: %w", to, err)
	}
	return debitResult{balance: fromBal, toBal: toBal}, nil
}

// transferSafe debits conditionally and credits in one transaction, after
// locking both rows in id order.
func (s *Service) transferSafe(ctx context.Context, from, to, amount int64) (debitResult, error) {
	if err := s.think(ctx); err != nil {
		return debitResult{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return debitResult{}, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	var res debitResult
	rows, err := tx.QueryContext(ctx, s.dialect.q(`SELECT id FROM accounts WHERE id IN (?, ?) ORDER BY id`+s.dialect.forUpdate), from, to)
	if err != nil {
		return debitResult{}, fmt.Errorf("lock: %w", err)
	}
	found := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return debitResult{}, fmt.Errorf("lock: scan: %w", err)
		}
		found[id] = true
	}
	if err := rows.Err(); err != nil {
		return debitResult{}, fmt.Errorf("lock: %w", err)
	}
	for _, id := range []int64{from, to} {
		if !found[id] {
			return debitResult{notFound: id}, nil
		}
	}
	err = s.updateReturning(ctx, tx, "accounts", from,
		`UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?`, []any{amount, from, amount}, "balance", &res.balance)
	if errors.Is(err, sql.ErrNoRows) {
		if err := tx.QueryRowContext(ctx, s.dialect.q(`SELECT balance FROM accounts WHERE id = ?`), from).Scan(&res.balance); err != nil {
			return debitResult{}, fmt.Errorf("read account %d: %w", from, err)
		}
		return debitResult{short: true, balance: res.balance}, nil
	}
	if err != nil {
		return debitResult{}, fmt.Errorf("debit account %d: %w", from, err)
	}
	if err := s.updateReturning(ctx, tx, "accounts", to,
		`UPDATE accounts SET balance = balance + ? WHERE id = ?`, []any{amount, to}, "balance", &res.toBal); err != nil {
		return debitResult{}, fmt.Errorf("credit account %d: %w", to, err)
	}
	if err := tx.Commit(); err != nil {
		return debitResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}
