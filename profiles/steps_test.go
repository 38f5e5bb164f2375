package profiles

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const stepsBase = `
name: steps
target:
  url: http://127.0.0.1:8080
database:
  driver: sqlite
  dsn: /tmp/app.db
operations:
  - name: fav
    request:
      method: POST
      url: /resources/{{id}}/favorites
      headers: {Authorization: "Bearer {{token}}"}
    rate: 10/s
    duration: 1s
invariants:
  - name: one favorite per resource
    query: SELECT COUNT(*) AS n FROM favorites WHERE resource_id = {{id}}
    expect: n <= 1
`

// TestSetupSteps decodes both forms of a setup step, with the lines of their
// fields, and checks which variables are defined and which are secret.
func TestSetupSteps(t *testing.T) {
	p, err := Parse("steps.yaml", []byte(stepsBase+`
setup:
  - DELETE FROM favorites
  - {name: seed, sql: "INSERT INTO users(name) VALUES ('ann')"}
  - name: login
    request:
      method: POST
      url: /login
      body: '{"user": "ann", "password": "{{env "HOME"}}"}'
    capture: {token: data.token}
    outcome: {ok: [200], fail: [4xx]}
  - name: create
    request:
      method: POST
      url: /resources
      headers: {Authorization: "Bearer {{token}}"}
    capture: {id: items.0.id, owner: items.0.owner}
    secret: [owner]
teardown:
  - name: delete
    request: {method: DELETE, url: "/resources/{{id}}", headers: {Authorization: "Bearer {{token}}"}}
  - DELETE FROM favorites WHERE resource_id = {{id}}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []SetupStep{
		{SQL: "DELETE FROM favorites"},
		{Name: "seed", SQL: "INSERT INTO users(name) VALUES ('ann')"},
		{Name: "login", Request: &Request{Method: "POST", URL: "/login", Body: `{"user": "ann", "password": "{{env "HOME"}}"}`},
			Capture: map[string]string{"token": "data.token"}, Outcome: OutcomeRules{OK: []string{"200"}, Fail: []string{"4xx"}}, Timeout: Duration(defaultStepTimeout)},
		{Name: "create", Request: &Request{Method: "POST", URL: "/resources", Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
			Capture: map[string]string{"id": "items.0.id", "owner": "items.0.owner"}, Secret: []string{"owner"},
			Outcome: OutcomeRules{OK: []string{"2xx"}}, Timeout: Duration(defaultStepTimeout)},
	}
	if !reflect.DeepEqual(p.Setup, want) {
		t.Errorf("setup =\n%+v\nwant\n%+v", p.Setup, want)
	}
	if len(p.Teardown) != 2 || p.Teardown[1].SQL != "DELETE FROM favorites WHERE resource_id = {{id}}" || p.Teardown[0].Request.Method != "DELETE" {
		t.Errorf("teardown = %+v", p.Teardown)
	}
	for field, line := range map[string]int{"setup[0]": 22, "setup[1].sql": 23, "setup[2].capture.token": 29, "setup[3].secret": 37, "teardown[1]": 41} {
		if got := p.Line(field); got != line {
			t.Errorf("Line(%s) = %d, want %d", field, got, line)
		}
	}
	if got := p.Vars(); !reflect.DeepEqual(got, []string{"token", "id", "owner"}) {
		t.Errorf("Vars = %v", got)
	}
	// token is used in an Authorization header; owner is listed.
	if got := p.SecretVars(); !reflect.DeepEqual(got, []string{"owner", "token"}) {
		t.Errorf("SecretVars = %v", got)
	}
	// A SQL step stays a plain string in JSON (result.json's profile copy).
	b, err := json.Marshal(p.Setup[:2])
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `["DELETE FROM favorites",{"name":"seed","sql":"INSERT INTO users(name) VALUES ('ann')"}]` {
		t.Errorf("JSON = %s", got)
	}
	var back []SetupStep
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p.Setup[:2]) {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
}

// TestSetupStepErrors: each mistake in a step is one error naming the line
// and the field.
func TestSetupStepErrors(t *testing.T) {
	login := `
  - name: login
    request: {method: POST, url: /login}
    capture: {token: data.token}`
	cases := map[string]struct{ setup, want string }{
		"unknown field":              {"setup:\n  - {name: a, sqll: x}", `steps.yaml:21: setup[0].sqll: unknown field (did you mean "sql"?)`},
		"empty step":                 {"setup:\n  - {name: a}", `steps.yaml:21: setup[0]: empty step: want SQL text, or a mapping with sql or request`},
		"capture on SQL":             {"setup:\n  - {sql: SELECT 1, capture: {a: b}}", `steps.yaml:21: setup[0].capture: only a request step has capture`},
		"absolute URL":               {"setup:\n  - {request: {method: GET, url: 'http://evil.example/x'}}", `steps.yaml:21: setup[0].request.url: "http://evil.example/x" must be a path starting with / (requests go to the target's base URL)`},
		"variable used too soon":     {"setup:\n  - DELETE FROM t WHERE token = {{token}}" + login, `steps.yaml:21: setup[0].sql: undefined variable {{token}}: no capture of that name by an earlier setup step (defined: none)`},
		"variable defined twice":     {"setup:" + login + strings.Replace(login, "login\n", "again\n", 1), `steps.yaml:26: setup[1].capture.token: variable "token" is already defined (first at setup[0].capture.token, line 23)`},
		"builtin name":               {"setup:\n  - {request: {method: GET, url: /}, capture: {uuid: a}}", `steps.yaml:21: setup[0].capture.uuid: "uuid" is a built-in template value; pick another capture name`},
		"duplicate step name":        {"setup:\n  - {name: a, sql: x}\n  - {name: a, sql: y}", `steps.yaml:22: setup[1].name: duplicate step name "a" (first at setup[0].name, line 21)`},
		"bad outcome":                {"setup:\n  - {request: {method: GET, url: /}, outcome: {ok: [2yy]}}", `steps.yaml:21: setup[0].outcome.ok[0]: invalid status "2yy" (want e.g. 2xx, 409 or 200-204)`},
		"quoted text is no variable": {"setup:\n  - INSERT INTO t VALUES ('{{not_a_var}}')\n  - DELETE FROM t WHERE a = {{nope}}", `steps.yaml:22: setup[1].sql: undefined variable {{nope}}: no capture of that name by an earlier setup step (defined: none)`},
		"teardown unknown var":       {"teardown:\n  - DELETE FROM t WHERE id = {{idd}}", `steps.yaml:21: teardown[0].sql: undefined variable {{idd}}: no capture of that name by setup or an earlier teardown step (defined: none)`},
		"teardown not a list":        {"teardown: DELETE FROM t", `steps.yaml:20: teardown: want a list, got "DELETE FROM t"`},
	}
	// The operations and invariants of stepsBase need id and token.
	base := strings.NewReplacer("{{id}}", "1", "{{token}}", "x").Replace(stepsBase)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("steps.yaml", []byte(base+tc.setup+"\n"), nil)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestVarRefs(t *testing.T) {
	cases := map[string]struct {
		in   string
		want []string
	}{
		"none":          {"SELECT 1", nil},
		"two, repeated": {"a = {{x}} AND b = {{ y }} OR a = {{x}}", []string{"x", "y"}},
		"not variables": {`'{{1,2},{3,4}}' {{env "HOME"}} {{a-b}}`, nil},
		"unclosed":      {"{{x", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := VarRefs(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("VarRefs(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
