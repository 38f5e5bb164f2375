// Package stacks owns where the service under test and its database come
// from, and that nothing it started outlives the run:
//
//   - a service already running at a URL, with its database DSN (nothing to
//     start; see CheckLoopback — what a DSN connects to is its database
//     driver's to say, in package database);
//   - the built-in demo service, in-process (StartDemo);
//   - a local command that collide starts as a child process in its own
//     process group, logs to a file, waits for until healthy, and stops
//     with SIGTERM then SIGKILL (StartCommand);
//   - containers, through testcontainers-go (NewDocker): a PostgreSQL
//     database, the service (an image, or a Dockerfile to build) and a
//     Toxiproxy server, on one private Docker network, with every published
//     port bound to 127.0.0.1.
//
// Commands and containers take the placeholders {{port}} and
// {{database_dsn}} (Expand). The harness decides the order (database, chaos
// links, service) and wires the chaos links; stacks hands it addresses and
// a Close for each thing it started. It knows nothing of checkers, toxics or
// profiles.
package stacks
