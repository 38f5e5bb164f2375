// Package stacks owns where the service under test and its database come
// from: a service already running at a URL with its database DSN, or the
// built-in demo service started in-process (later: a local command, or
// containers via testcontainers-go). It hands the harness addresses and a
// Close; it knows nothing of checkers.
package stacks
