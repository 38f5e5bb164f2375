package demo

import (
	"strings"
	"testing"
)

// apiStep is one request of TestClassEndpoints and what must come back.
type apiStep struct {
	method, path, body string
	want               int
	// body is the exact response body (without the trailing newline), or
	// "" to check only that it is JSON; racyBody/racyWant override in racy
	// mode when non-zero.
	wantBody string
	racyWant int
	racyBody string
	// exec runs before the request (SQL with ? placeholders).
	exec string
}

// TestClassEndpoints walks every race class endpoint once, sequentially,
// on both databases in both modes: the wire format, the 400s and 404s, and
// where the modes differ without concurrency (stale versions, superseded
// jobs, the racy read cache), both answers.
func TestClassEndpoints(t *testing.T) {
	t.Parallel()
	steps := []apiStep{
		// RC-002 docs
		{method: "GET", path: "/docs/1", want: 200, wantBody: `{"id":1,"title":"","version":0}`},
		{method: "PUT", path: "/docs/1", body: `{"version":0,"title":"a"}`, want: 200, wantBody: `{"id":1,"title":"a","version":1}`},
		{method: "PUT", path: "/docs/1", body: `{"version":0,"title":"b"}`, want: 409, wantBody: `{"error":"resource was modified, refresh","version":1}`,
			racyWant: 200, racyBody: `{"id":1,"title":"b","version":2}`},
		{method: "GET", path: "/docs/99", want: 404},
		{method: "PUT", path: "/docs/99", body: `{"version":0,"title":"a"}`, want: 404},
		{method: "PUT", path: "/docs/x", body: `{"version":0,"title":"a"}`, want: 400},
		{method: "PUT", path: "/docs/1", body: `{"title":"a"}`, want: 400},
		{method: "PUT", path: "/docs/1", body: `{"version":1}`, want: 400},
		{method: "PUT", path: "/docs/1", body: `{"version":1,"title":"a","x":1}`, want: 400},
		{method: "PUT", path: "/docs/1", body: `{"version":1,"title":"a"} {}`, want: 400},
		{method: "PUT", path: "/docs/1", body: ``, want: 400},
		// RC-003 collection
		{method: "GET", path: "/projects/5/items", want: 200, wantBody: `{"project_id":5,"count":0,"items":[]}`},
		{method: "POST", path: "/projects/5/items", body: `{"item":"a"}`, want: 201, wantBody: `{"project_id":5,"item":"a","count":1}`},
		{method: "POST", path: "/projects/5/items", body: `{"item":"b"}`, want: 201, wantBody: `{"project_id":5,"item":"b","count":2}`},
		{method: "POST", path: "/projects/5/items", body: `{"item":""}`, want: 400},
		{method: "POST", path: "/projects/5/items", body: `{}`, want: 400},
		{method: "GET", path: "/projects/5/items", want: 200, wantBody: `{"project_id":5,"count":2,"items":["a","b"]}`},
		// RC-004 jobs
		{method: "GET", path: "/reports/3", want: 404},
		{method: "POST", path: "/reports/3/regenerate", body: `{"job":5}`, want: 200, wantBody: `{"id":3,"job":5,"applied":true,"result":"report 3 from job 5","took_ms":0}`},
		{method: "POST", path: "/reports/3/regenerate", body: `{"job":4}`, want: 200, wantBody: `{"id":3,"job":4,"applied":false,"result":"report 3 from job 4","took_ms":0}`,
			racyBody: `{"id":3,"job":4,"applied":true,"result":"report 3 from job 4","took_ms":0}`},
		{method: "GET", path: "/reports/3", want: 200, wantBody: `{"id":3,"job":5,"result":"report 3 from job 5"}`,
			racyBody: `{"id":3,"job":4,"result":"report 3 from job 4"}`},
		{method: "POST", path: "/reports/3/regenerate", body: `{}`, want: 400},
		// RC-005 bulk
		{method: "POST", path: "/items/bulk", body: `{"batch":1}`, want: 400},
		{method: "POST", path: "/items/bulk", body: `{"batch":2,"price":3}`, want: 200, wantBody: `{"batch":2,"price":3,"rows":10}`},
		{method: "POST", path: "/items/3/edit", want: 200, wantBody: `{"id":3,"price":3,"batch":2,"edits":1}`},
		{method: "POST", path: "/items/99/edit", want: 404},
		{exec: `DELETE FROM items WHERE id > 2`, method: "GET", path: "/items", want: 200,
			wantBody: `{"count":2,"items":[{"id":1,"price":3,"batch":2,"edits":0},{"id":2,"price":3,"batch":2,"edits":0}]}`},
		// TOCTOU accounts
		{method: "GET", path: "/accounts/1", want: 200, wantBody: `{"id":1,"balance":100}`},
		{method: "POST", path: "/accounts/1/debit", body: `{"amount":0}`, want: 400},
		{method: "POST", path: "/accounts/1/debit", body: `{}`, want: 400},
		{method: "POST", path: "/accounts/1/debit", body: `{"amount":30}`, want: 200, wantBody: `{"id":1,"amount":30,"balance":70}`},
		{method: "POST", path: "/accounts/1/debit", body: `{"amount":500}`, want: 409, wantBody: `{"error":"insufficient funds","balance":70}`},
		{method: "POST", path: "/accounts/99/debit", body: `{"amount":1}`, want: 404},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"to":1,"amount":5}`, want: 400},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"to":2,"amount":-5}`, want: 400},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"amount":5}`, want: 400},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"to":99,"amount":5}`, want: 404},
		{method: "POST", path: "/accounts/transfer", body: `{"from":99,"to":1,"amount":5}`, want: 404},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"to":2,"amount":50}`, want: 200,
			wantBody: `{"from":1,"to":2,"amount":50,"from_balance":20,"to_balance":150}`},
		{method: "POST", path: "/accounts/transfer", body: `{"from":1,"to":2,"amount":50}`, want: 409, wantBody: `{"error":"insufficient funds","balance":20}`},
		{method: "GET", path: "/accounts/2", want: 200, wantBody: `{"id":2,"balance":150}`},
		// Compound operation (signup.go)
		{method: "POST", path: "/signup", body: `{"name":"ann"}`, want: 201, wantBody: `{"id":1,"name":"ann"}`},
		{method: "POST", path: "/signup", body: `{"name":" "}`, want: 400},
		{method: "POST", path: "/signup", body: `{}`, want: 400},
		{method: "POST", path: "/signup", body: `{"name":"ann","x":1}`, want: 400},
		// Oversell
		{method: "GET", path: "/products/1", want: 200, wantBody: `{"id":1,"stock":10,"purchases":0}`},
		{method: "POST", path: "/products/1/purchase", want: 201, wantBody: `{"purchase_id":1,"product_id":1,"buyer":"","stock":9}`},
		{method: "POST", path: "/products/1/purchase", body: `{"buyer":"ann"}`, want: 201, wantBody: `{"purchase_id":2,"product_id":1,"buyer":"ann","stock":8}`},
		{method: "POST", path: "/products/1/purchase", body: `{"buyer":1}`, want: 400},
		{method: "POST", path: "/products/99/purchase", want: 404},
		{exec: `UPDATE products SET stock = 0`, method: "POST", path: "/products/1/purchase", want: 409, wantBody: `{"error":"sold out","stock":0}`},
		{method: "GET", path: "/products/1", want: 200, wantBody: `{"id":1,"stock":0,"purchases":2}`},
		// Webhooks
		{method: "POST", path: "/webhooks", body: `{"event_id":"e1","wallet":1,"amount":5}`, want: 200,
			wantBody: `{"event_id":"e1","wallet":1,"amount":5,"applied":true,"balance":5}`},
		{method: "POST", path: "/webhooks", body: `{"event_id":"e1","wallet":1,"amount":5}`, want: 200,
			wantBody: `{"event_id":"e1","wallet":1,"amount":5,"applied":false}`},
		{method: "POST", path: "/webhooks", body: `{"event_id":"e2","wallet":99,"amount":5}`, want: 404},
		{exec: `INSERT INTO wallets (id, balance) VALUES (99, 0)`, // the 404 applied nothing: a retry works
			method: "POST", path: "/webhooks", body: `{"event_id":"e2","wallet":99,"amount":5}`, want: 200,
			wantBody: `{"event_id":"e2","wallet":99,"amount":5,"applied":true,"balance":5}`},
		{method: "POST", path: "/webhooks", body: `{"event_id":"","wallet":1,"amount":5}`, want: 400},
		{method: "POST", path: "/webhooks", body: `{"event_id":"e3","amount":5}`, want: 400},
		{method: "POST", path: "/webhooks", body: `{"event_id":"e3","wallet":1}`, want: 400},
		{method: "GET", path: "/wallets/1", want: 200, wantBody: `{"id":1,"balance":5}`},
		{method: "GET", path: "/wallets/7", want: 404},
		// Register
		{method: "GET", path: "/kv/a", want: 200, wantBody: `{"key":"a","value":null}`},
		{method: "PUT", path: "/kv/a", body: `{"value":3}`, want: 200, wantBody: `{"key":"a","value":3}`},
		{method: "PUT", path: "/kv/a", body: `{}`, want: 400},
		{method: "GET", path: "/kv/a", want: 200, wantBody: `{"key":"a","value":3}`, racyBody: `{"key":"a","value":null}`},
	}
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				for _, st := range steps {
					if st.exec != "" {
						exec(t, s, st.exec)
					}
					want, wantBody := st.want, st.wantBody
					if mode == modeRacy {
						if st.racyWant != 0 {
							want = st.racyWant
						}
						if st.racyBody != "" {
							wantBody = st.racyBody
						}
					}
					r := mustCall(t, st.method, srv.URL+st.path, nil, st.body)
					got := strings.TrimSuffix(string(r.body), "\n")
					if r.status != want || r.ctype != "application/json" || (wantBody != "" && got != wantBody) {
						t.Fatalf("%s %s %s = %d %q %s\nwant %d %s", st.method, st.path, st.body, r.status, r.ctype, got, want, wantBody)
					}
					if r.status >= 400 && decode[errorBody](t, r).Error == "" {
						t.Fatalf("%s %s: %d without an error message: %s", st.method, st.path, r.status, got)
					}
				}
			})
		}
	}
}
