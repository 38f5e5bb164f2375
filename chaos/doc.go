// Package chaos owns collide's network faults: Toxiproxy links in front of the
// service ("target": attacker → service) and the database ("database":
// service → database), the toxics that break them, the schedule that adds and
// removes those toxics in from/for windows, the timeline of every change, and
// guaranteed cleanup.
//
// The Toxiproxy server is either embedded in the process (StartEmbedded, the
// default) or an external toxiproxy-server (AddLinkAt places a link's
// listener for a server in a container); Chaos talks to both the same way,
// through Toxiproxy's official Go client only. A Chaos touches only the
// proxies it created, named collide-<runID>-<link>~<owner>: it never resets
// the server and never touches another team's proxies or a live run's, so a
// Toxiproxy server can be shared. CleanLeftovers removes the proxies of
// collide runs whose process is gone (killed with -9), read from the owner
// (host, PID, start time) in their names (owner.go, leftovers.go).
//
// Fault kinds live one per file in package chaos/fault (latency.go,
// reset_peer.go, timeout.go, bandwidth.go, slow_close.go, limit_data.go,
// cut_after_statement.go) and
// register themselves by name (fault.Register, Lookup, Names), as
// Toxiproxy's own toxics do: each decodes and checks its own fields and
// builds its toxic's attributes. The profile loader checks a fault's common
// fields (link, stream, toxicity, from, for) and has the kind decode the
// rest; Apply and Run check a fault built in code with profiles.Fault.Spec.
//
// Units: profile durations (latency, jitter, timeout, delay, from, for) are Go
// durations; Toxiproxy takes whole milliseconds, so sub-millisecond parts are
// dropped and a non-zero value below 1ms is rejected. rate is in KB/s (1 KB =
// 1000 bytes, as Toxiproxy counts), bytes in bytes, toxicity a probability in
// [0,1] per connection (default 1). The default stream is downstream (data
// towards the client). Timeline offsets are from the start of the schedule.
//
// A typical run:
//
//	emb, _ := chaos.StartEmbedded(ctx)
//	defer emb.Close()
//	c := chaos.New(emb.URL(), runID)
//	defer c.Close(ctx)                      // deletes this run's proxies, whatever happened
//	db, _ := c.AddLink(ctx, "database", "127.0.0.1:5432")
//	// ... start the service against db.Listen ...
//	s, _ := c.Run(ctx, profile.Chaos, attackLen)
//	select { case <-attackDone: case err := <-s.Err(): /* abort: environment error */ }
//	s.Stop()
//	c.HealAll(ctx)                          // links stay for the checks
//	events := c.Timeline()
//
// Toxiproxy 2.12 caveats this package works around or reports:
//   - Deleting a toxic other than the newest of its stream while connections
//     close can leave a connection's toxic chain out of step and later panic
//     the server (with the embedded server, the whole process). Remove and
//     HealAll therefore only ever delete the newest toxic of a stream,
//     lifting newer ones off and back on when an older one must go.
//   - Changing toxics while a connection through the proxy dies with data in
//     flight can deadlock the proxy for good
//     (https://github.com/Shopify/toxiproxy/issues/558). Every request is
//     bounded (5s in schedules, 10s in Close); the error says so, later
//     changes on the wedged link fail at once, and Close and Embedded.Close
//     give up on it rather than hang.
//   - Toxiproxy adds and deletes take effect only once every connection's
//     toxic chain has taken the change: under heavy traffic that is tens to
//     hundreds of milliseconds. Timeline events carry the time the API
//     confirmed the change.
//
// Tap faults: a kind whose Params are fault.WireParams (cut_after_statement)
// is no toxic but a fault of the SQL wire-protocol tap (package chaos/tap).
// StartTap puts a tap in front of a link's proxy (client → tap → Toxiproxy
// → upstream); Apply, Run, Remove and HealAll arm and disarm the tap's Cut
// in the fault's window as they add and remove toxics, and every cut is a
// timeline event (ActionCut) at the time the tap made it. Close stops the
// taps first.
//
// This package knows nothing of HTTP requests; of SQL it knows only that
// the tap decodes it.
package chaos
