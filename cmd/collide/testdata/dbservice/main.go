// Command dbservice is a tiny service under test for collide's own tests:
// it keeps a counter in a real database, reached through the DSN it is
// given ({{database_dsn}}), with any of collide's drivers. It prints the
// address its DSN connects to, so that a test can see that its
// connections go through the database link.
//
//	dbservice -listen 127.0.0.1:PORT -driver D -dsn DSN -init STMT… -incr STMT
//
// GET /healthz runs -read; POST /counters/1/increment runs -incr.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	driver := flag.String("driver", "", "collide driver name")
	dsn := flag.String("dsn", "", "database DSN")
	incr := flag.String("incr", "", "statement that increments the counter")
	read := flag.String("read", "", "statement that reads the counter")
	var inits []string
	flag.Func("init", "statement run at start (repeatable)", func(s string) error { inits = append(inits, s); return nil })
	flag.Parse()

	d, err := database.Lookup(*driver)
	if err != nil {
		log.Fatal(err)
	}
	network, addr, err := d.Address(*dsn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dbservice: database at %s %s\n", network, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	db, err := database.Open(ctx, *driver, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range inits {
		if err := db.Exec(ctx, s); err != nil {
			log.Fatal(err)
		}
	}
	cancel()
	http.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.Query(r.Context(), *read)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, rows.Values)
	})
	http.HandleFunc("POST /counters/1/increment", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Exec(r.Context(), *incr); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	fmt.Printf("dbservice: listening on %s\n", *listen)
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
