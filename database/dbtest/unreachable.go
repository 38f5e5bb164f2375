package dbtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
)

// RunUnreachable opens each DSN (of a server that does not answer, with
// the password s3cr3t-pw) with driver and checks the error: it leaks no
// password, shows the redacted DSN and its host, and wraps its cause.
func RunUnreachable(t *testing.T, driver string, dsns ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, dsn := range dsns {
		t.Run("unreachable "+dsn, func(t *testing.T) {
			db, err := database.Open(ctx, driver, dsn)
			if err == nil {
				db.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cr3t-pw") {
				t.Errorf("error leaks the password: %s", msg)
			}
			if !strings.Contains(msg, "REDACTED") || !strings.Contains(msg, "127.0.0.1") {
				t.Errorf("error should show the redacted DSN: %s", msg)
			}
			if errors.Unwrap(err) == nil {
				t.Errorf("error does not wrap its cause: %s", msg)
			}
		})
	}
}
