package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The webhook replay class: a sender delivers the same event (same
// event_id) several times, concurrently; it must be applied once.
//
// Every applied event is logged in webhook_events (one row per
// application: no UNIQUE on event_id, on purpose) and credits its wallet.
//
// racy: SELECT whether the event is in webhook_events; if so, 200
// "applied":false; else think, then in one transaction log the event and
// credit the wallet. Copies delivered together all pass the check: the
// event is applied (and credited) several times.
//
// safe: think, then one transaction: INSERT INTO processed_events
// (event_id) ... ON CONFLICT DO NOTHING first (its primary key admits one
// winner; a concurrent copy waits for the winner's transaction), and only
// if that inserted a row, log the event and credit the wallet. A duplicate
// answers 200 "applied":false (the sender must not retry it).

// webhookBody is the response of POST /webhooks.
type webhookBody struct {
	EventID string `json:"event_id"`
	Wallet  int64  `json:"wallet"`
	Amount  int64  `json:"amount"`
	Applied bool   `json:"applied"`           // false: a duplicate, nothing done
	Balance *int64 `json:"balance,omitempty"` // the wallet after this event, when applied
}

// walletBody is the response of GET /wallets/{id}.
type walletBody struct {
	ID      int64 `json:"id"`
	Balance int64 `json:"balance"`
}

const webhookShape = `{"event_id":"...","wallet":1,"amount":A}`

func (s *Service) handleGetWallet(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "wallet")
	if !ok {
		return
	}
	var balance int64
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT balance FROM wallets WHERE id = ?`), id).Scan(&balance)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("wallet %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read wallet %d", id), err)
	default:
		writeJSON(w, http.StatusOK, walletBody{ID: id, Balance: balance})
	}
}

func (s *Service) handleWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		EventID *string `json:"event_id"`
		Wallet  *int64  `json:"wallet"`
		Amount  *int64  `json:"amount"`
	}
	if !decodeBody(w, r, &body, webhookShape) {
		return
	}
	switch {
	case body.EventID == nil || *body.EventID == "":
		missing(w, "event_id", webhookShape)
		return
	case body.Wallet == nil:
		missing(w, "wallet", webhookShape)
		return
	case body.Amount == nil:
		missing(w, "amount", webhookShape)
		return
	}
	ev := webhookBody{EventID: *body.EventID, Wallet: *body.Wallet, Amount: *body.Amount}
	apply := s.applyEventSafe
	if s.cfg.Mode == modeRacy {
		apply = s.applyEventRacy
	}
	err := apply(r.Context(), &ev)
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("wallet %d not found", ev.Wallet))
	case err != nil:
		writeDBError(w, fmt.Sprintf("apply event %q", ev.EventID), err)
	default:
		writeJSON(w, http.StatusOK, ev)
	}
}

// applyEventRacy checks whether the event was seen, thinks, then applies.
func (s *Service) applyEventRacy(ctx context.Context, ev *webhookBody) error {
	var seen int64
	if err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT COUNT(*) FROM webhook_events WHERE event_id = ?`), ev.EventID).Scan(&seen); err != nil {
		return fmt.Errorf("look up event: %w", err)
	}
	if seen > 0 {
		return nil // applied: false
	}
	if err := s.think(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	return s.creditEvent(ctx, tx, ev)
}

// applyEventSafe records the event id first; only the winner applies it.
func (s *Service) applyEventSafe(ctx context.Context, ev *webhookBody) error {
	if err := s.think(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	record := `INSERT INTO processed_events (event_id) VALUES (?) ON CONFLICT DO NOTHING`
	if s.dialect.name == driverMySQL {
		record = `INSERT IGNORE INTO processed_events (event_id) VALUES (?)`
	}
	res, err := tx.ExecContext(ctx, s.dialect.q(record), ev.EventID)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("record event: rows affected: %w", err)
	}
	if n == 0 {
		return nil // a duplicate: applied: false
	}
	return s.creditEvent(ctx, tx, ev)
}

// creditEvent logs the event, credits its wallet and commits tx; it sets
// ev.Applied and ev.Balance on success.
func (s *Service) creditEvent(ctx context.Context, tx *sql.Tx, ev *webhookBody) error {
	if _, err := tx.ExecContext(ctx, s.dialect.q(`INSERT INTO webhook_events (event_id, wallet, amount) VALUES (?, ?, ?)`),
		ev.EventID, ev.Wallet, ev.Amount); err != nil {
		return fmt.Errorf("log event: %w", err)
	}
	var balance int64
	err := s.updateReturning(ctx, tx, "wallets", ev.Wallet, `UPDATE wallets SET balance = balance + ? WHERE id = ?`,
		[]any{ev.Amount, ev.Wallet}, "balance", &balance)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("credit wallet: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	ev.Applied, ev.Balance = true, &balance
	return nil
}
