// Package tap owns collide's SQL wire-protocol tap: a loopback TCP relay
// between a service and its database (Config.Listen → Config.Upstream) that
// forwards every byte unchanged and, when discovery is on, decodes both
// directions to record the statements each client connection sends. It is the
// foundation of `collide discover` (issue 17) and of statement-boundary faults.
//
// Protocols: PostgreSQL (frontend/backend protocol 3.0, decoded message by
// message with github.com/jackc/pgx/v5/pgproto3 from a tee of the byte
// stream, never re-encoded) and MySQL/MariaDB (client/server protocol 4.1
// packets). A stream the tap cannot follow is still forwarded; the connection
// is then marked undecodable (an Event) and records nothing more.
//
// Discovery off (Config.Recorder and Config.Cut both nil) is a plain relay:
// io.Copy in each direction (splice(2) on Linux), no decoding at all.
//
// What a record is: one Statement per statement a client sent, with the proxy
// connection it arrived on (ConnID), its order within that connection (Seq),
// the times the tap saw it leave the client (Start) and saw its completion
// from the server (End), its text and bound parameters, the transaction it
// ran in and the server's command tag or error. A PostgreSQL simple Query
// message is one Statement even when it holds several statements (their tags
// are joined with "; "). The Recorder keeps the newest statements up to its capacity and
// counts the ones it had to drop; Window takes the statements of a time window.
//
// Transactions: a statement is in a transaction when the server reported one
// open before or after it (PostgreSQL ReadyForQuery status T or E, MySQL
// SERVER_STATUS_IN_TRANS). TxnID numbers the transactions of a connection
// from 1; 0 means autocommit. On PostgreSQL the status after a statement is
// the one of the next ReadyForQuery, so statements of one simple Query share it.
// On MySQL an ERR packet carries no status: the status is taken as unchanged.
// With autocommit off, MySQL reports SERVER_STATUS_IN_TRANS from the first
// statement, so every statement is in a transaction.
//
// TLS: the tap must read the stream, so it refuses TLS on the database link
// and records the refusal as an Event whose Err wraps ErrTLS and names the
// link. PostgreSQL: the tap answers an SSLRequest (or GSSENCRequest) with 'N'
// itself, never forwarding it, so sslmode=prefer falls back to plaintext and
// sslmode=require fails with the client's own error ("server refused TLS
// connection"); a direct TLS ClientHello is refused by closing the
// connection. MySQL: a handshake response with CLIENT_SSL set is not
// forwarded and the connection is closed (the client sees its connection
// lost). With discovery off, TLS passes through untouched.
//
// Statement-boundary fault (Cut): after the Nth statement (optionally only
// those matching a regexp) of a connection or of a transaction completes,
// the tap forwards the server's response up to the end of that statement's
// response cycle — PostgreSQL: through the ReadyForQuery that follows its
// CommandComplete/ErrorResponse; MySQL: through the OK/EOF/ERR packet that
// ends the command — and then closes both sides without forwarding another
// byte. The client therefore sees statement N succeed and its next statement
// fail with a connection error; a transaction left open is rolled back by the
// server. Once the cut is decided nothing more the client sends is
// forwarded, so a statement it sends on reading that response never reaches
// the server. Each firing is an Event of kind EventCut. (A client that had
// already sent more bytes may see the close as a reset.)
//
// Arming: Config.Cut is armed from the start; with Config.Armable, Arm sets
// or clears the Cut at run time (package chaos arms a cut_after_statement
// fault only inside its from/for window), and each arming counts afresh.
// Config.OnEvent sees every event as it happens.
//
// Use:
//
//	rec := tap.NewRecorder(100_000)
//	tp, err := tap.Start(ctx, tap.Config{Name: "database", Upstream: "127.0.0.1:5432",
//		Protocol: tap.Postgres, Recorder: rec})
//	defer tp.Close()
//	// point the service at tp.Addr() with sslmode=disable, send one request …
//	stmts := rec.Window(sent, answered)
//	events := tp.Events() // connections, TLS refusals, cuts, undecodable streams
//
// Only loopback traffic: Listen and Upstream must be loopback addresses.
package tap
