package profiles

import (
	"strings"
	"testing"
)

// TestRedactText: each kind of secret written in free text is replaced where
// it is, and nothing else is.
func TestRedactText(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"postgres URL", "open postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable",
			"open postgres://collide:REDACTED@127.0.0.1:5432/collide?sslmode=disable"},
		{"URL in prose", "see http://ann:s3cr3t-pw@host/x for details", "see http://ann:REDACTED@host/x for details"},
		{"mysql DSN", "root:s3cret@tcp(127.0.0.1:3306)/app", "root:REDACTED@tcp(127.0.0.1:3306)/app"},
		{"key=value DSN", "host=127.0.0.1 user=c password=s3cret dbname=c", "host=127.0.0.1 user=c password=REDACTED dbname=c"},
		{"quoted key=value", "password='a b' host=x", "password='REDACTED' host=x"},
		{"JSON body fields", `{"user": "alice", "password": "hunter22", "api_key": "k-123"}`,
			`{"user": "alice", "password": "REDACTED", "api_key": "REDACTED"}`},
		{"form body", "user=alice&access_token=abc123&x=1", "user=alice&access_token=REDACTED&x=1"},
		{"-set of a cookie header", "operations[0].request.headers.Cookie=sid=abc123",
			"operations[0].request.headers.Cookie=REDACTED"},
		{"bearer token in a message", "status 403: forbidden for Bearer tok-9d2c41f7", "status 403: forbidden for Bearer REDACTED"},
		{"templates are not secrets", `{"password": "{{env "PW"}}"}`, `{"password": "{{env "PW"}}"}`},
		{"placeholders in help texts", "e.g. postgres://user:pass@127.0.0.1:5432/db", "e.g. postgres://user:pass@127.0.0.1:5432/db"},
		{"comparisons are not key=value", `expect: token == 1 && session != 2 && auth >= 3`, `expect: token == 1 && session != 2 && auth >= 3`},
		{"already redacted", "postgres://u:REDACTED@h/d", "postgres://u:REDACTED@h/d"},
		{"nothing secret", `{"user": "alice", "n": 3} key=value path=/x`, `{"user": "alice", "n": 3} key=value path=/x`},
		{"URL without password", "http://ann@host/x http://host:8080/y", "http://ann@host/x http://host:8080/y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactText(tc.in); got != tc.want {
				t.Fatalf("RedactText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSecretName: the one name rule, for headers, fields, variables and
// -set paths alike.
func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Api-Key": true, "api_key": true, "APIKEY": true, "X-Auth-Token": true, "password": true,
		"DB_PASSWORD": true, "client_secret": true, "X-Session-Token": true, "X-Signature": true,
		"PGPASSWD": true, "credentials": true, "private_key": true,
		"Content-Type": false, "X-Request-Id": false, "user": false, "id": false, "Accept": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzRedactText: no input makes RedactText panic, and what it leaves holds
// none of the secrets TextSecrets found in the input.
func FuzzRedactText(f *testing.F) {
	for _, s := range []string{
		"postgres://u:p@h/d", `{"password": "x1", "token":"y2"}`, "a=1&access_token=zz", "root:pw@tcp(h)/d",
		"Bearer abcdefgh", "password='q' x", "http://a:b@c http://d:e@f", `"auth":"{{env "X"}}"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactText(s)
		for _, v := range TextSecrets(s) {
			if len(v) >= 4 && !strings.Contains(Redacted, v) && strings.Contains(out, v) && !strings.Contains(s, v+v) {
				// A secret that is also part of the text around it (or of
				// another secret) may survive there; a secret standing
				// alone may not.
				if strings.Count(s, v) == 1 {
					t.Fatalf("RedactText(%q) = %q keeps %q", s, out, v)
				}
			}
		}
	})
}
