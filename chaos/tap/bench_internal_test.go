package tap

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// BenchmarkDecodeOnly measures the decoders alone (no network): one
// statement's client and server bytes per op; stmts/s is statements
// decoded and recorded per second.
func BenchmarkDecodeOnly(b *testing.B) {
	mk := func(p Protocol) *conn {
		t := &Tap{cfg: Config{Name: "bench", Protocol: p, Recorder: NewRecorder(4096)}, decode: true}
		t.events = t.cfg.Recorder
		return &conn{t: t, id: 1}
	}
	b.Run("postgres-extended", func(b *testing.B) {
		c := mk(Postgres)
		d := newPGDecoder(c)
		var cb, sb []byte
		setup, _ := (&pgproto3.Parse{Name: "s1", Query: "SELECT balance FROM acct WHERE id = $1", ParameterOIDs: []uint32{23}}).Encode(nil)
		setup, _ = (&pgproto3.Sync{}).Encode(setup)
		cb, _ = (&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 7}}}).Encode(cb)
		cb, _ = (&pgproto3.Execute{}).Encode(cb)
		cb, _ = (&pgproto3.Sync{}).Encode(cb)
		sb, _ = (&pgproto3.BindComplete{}).Encode(sb)
		sb, _ = (&pgproto3.DataRow{Values: [][]byte{[]byte("100")}}).Encode(sb)
		sb, _ = (&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}).Encode(sb)
		sb, _ = (&pgproto3.ReadyForQuery{TxStatus: 'I'}).Encode(sb)
		rfq, _ := (&pgproto3.ReadyForQuery{TxStatus: 'I'}).Encode(nil)
		now := time.Now()
		d.client(setup, now) //nolint:errcheck // never refuses
		d.server(rfq, now)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			d.client(cb, now) //nolint:errcheck // never refuses
			d.server(sb, now)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		if c.dead || c.seq != b.N {
			b.Fatalf("decoded %d of %d (dead %v)", c.seq, b.N, c.dead)
		}
	})
	b.Run("mysql-query", func(b *testing.B) {
		c := mk(MySQL)
		d := newMySQLDecoder(c)
		d.phase, d.caps = myCommand, myClientProtocol41|myDeprecateEOF
		pkt := func(seq byte, body ...byte) []byte {
			return append([]byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), seq}, body...)
		}
		cb := pkt(0, append([]byte{comQuery}, "UPDATE acct SET balance = balance + 1 WHERE id = 7"...)...)
		ok := []byte{0x00, 1, 0}
		ok = binary.LittleEndian.AppendUint16(ok, myStatusAutocommit)
		sb := pkt(1, append(ok, 0, 0)...)
		now := time.Now()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			d.client(cb, now) //nolint:errcheck // never refuses
			d.server(sb, now)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		if c.dead || c.seq != b.N {
			b.Fatalf("decoded %d of %d (dead %v)", c.seq, b.N, c.dead)
		}
	})
}
