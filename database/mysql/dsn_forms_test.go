package mysql_test

import (
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/database/mysql"
)

func TestDSN(t *testing.T) {
	dbtest.RunDSNCases(t, mysql.Driver{}, "127.0.0.1:40001", []dbtest.DSNCase{
		{Name: "tcp", DSN: "root:pw@tcp(127.0.0.1:3306)/shop",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "root:pw@tcp(127.0.0.1:40001)/shop", Redacted: "root:REDACTED@tcp(127.0.0.1:3306)/shop"},
		{Name: "tcp missing port", DSN: "u:p@tcp(db.internal)/x?parseTime=true",
			Network: "tcp", Address: "db.internal:3306",
			Through: "u:p@tcp(127.0.0.1:40001)/x?parseTime=true", Redacted: "u:REDACTED@tcp(db.internal)/x?parseTime=true"},
		{Name: "tcp ipv6", DSN: "u:p@tcp([::1]:3307)/x",
			Network: "tcp", Address: "[::1]:3307",
			Through: "u:p@tcp(127.0.0.1:40001)/x", Redacted: "u:REDACTED@tcp([::1]:3307)/x"},
		{Name: "tcp ipv6 missing port", DSN: "u:p@tcp([::1])/x",
			Network: "tcp", Address: "[::1]:3306",
			Through: "u:p@tcp(127.0.0.1:40001)/x", Redacted: "u:REDACTED@tcp([::1])/x"},
		{Name: "no address", DSN: "u:p@/x",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "u:p@tcp(127.0.0.1:40001)/x", Redacted: "u:REDACTED@/x"},
		{Name: "no userinfo", DSN: "tcp(db:3306)/x",
			Network: "tcp", Address: "db:3306",
			Through: "tcp(127.0.0.1:40001)/x", Redacted: "tcp(db:3306)/x"},
		{Name: "unix socket", DSN: "u:p@unix(/run/mysqld/mysqld.sock)/x",
			Network: "unix", Address: "/run/mysqld/mysqld.sock",
			Through: "u:p@tcp(127.0.0.1:40001)/x", Redacted: "u:REDACTED@unix(/run/mysqld/mysqld.sock)/x"},
		{Name: "password with special characters", DSN: "u:p@ss/w:rd(1)@tcp(127.0.0.1:3306)/x",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "u:p@ss/w:rd(1)@tcp(127.0.0.1:40001)/x", Redacted: "u:REDACTED@tcp(127.0.0.1:3306)/x"},
		{Name: "password holding tcp(", DSN: "u:tcp(x@tcp(127.0.0.1:3306)/app",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "u:tcp(x@tcp(127.0.0.1:40001)/app", Redacted: "u:REDACTED@tcp(127.0.0.1:3306)/app"},
		{Name: "mysql url", DSN: "mysql://u:p%2Fw@127.0.0.1/app?loc=Local",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "mysql://u:p%2Fw@127.0.0.1:40001/app?loc=Local", Redacted: "mysql://u:REDACTED@127.0.0.1/app?loc=Local"},
		{Name: "mariadb url ipv6", DSN: "mariadb://u:s3cret@[::1]:3307/app",
			Network: "tcp", Address: "[::1]:3307",
			Through: "mariadb://u:s3cret@127.0.0.1:40001/app", Redacted: "mariadb://u:REDACTED@[::1]:3307/app"},
		{Name: "url without host", DSN: "mysql:///app",
			Network: "tcp", Address: "127.0.0.1:3306",
			Through: "mysql://127.0.0.1:40001/app", Redacted: "mysql:///app"},
	})
}

func TestDSNErrors(t *testing.T) {
	dbtest.RunDSNErrors(t, mysql.Driver{}, []dbtest.DSNErrorCase{
		{Name: "not a dsn", DSN: "not a dsn", Want: "parse DSN"},
		{Name: "bad url", DSN: "mysql://%zz", Want: "invalid URL"},
		{Name: "unclosed address", DSN: "u:p@tcp(127.0.0.1:3306/x", Want: "parse DSN"},
		{Name: "unknown network", DSN: "u:p@pipe(x)/db", Want: "neither tcp nor unix"},
	})
}
