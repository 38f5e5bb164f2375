// Package redact owns the one placeholder collide writes in place of a
// secret (Placeholder, "REDACTED") and Scrub, which hides known secrets in
// a text such as a driver's error message. It knows no DSN or profile
// format: the database drivers (database/…) and profiles build on it.
package redact
