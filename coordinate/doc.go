// Package coordinate lets the shards of one distributed collide run agree
// on a start time, measure their clocks against one reference, and hand in
// their run folders.
//
// A Server is a small HTTP service with four endpoints and nothing else:
//
//	GET /start?shard=i   → {"start_at", "shards", "run_group"}: one start time
//	                       for every shard, fixed when the first shard asks
//	                       (the server's clock + StartDelay)
//	GET /clock           → {"received_at", "sent_at", "resolution_ns"}: the
//	                       server's receive and send timestamps of this request,
//	                       for an NTP-style clock exchange
//	PUT /results/{shard} → a tar stream (application/x-tar) of the shard's run
//	                       folder, unpacked into ResultsDir/shard-i/
//	GET /status          → which shards started and uploaded, and done: all
//	                       of them uploaded
//
// Every body is bounded (MaxUploadBytes for uploads, entries and file names
// in the tar are checked, nothing may escape ResultsDir) and every request
// is bounded in time by the http.Server that NewHTTPServer returns.
//
// Client is the shards' side: Start, Measure, Upload, Status and Wait.
// Measure takes the sample of smallest round trip among several and reports
// the offset of the server's clock from the local one with its error bound:
// the true offset lies within offset ± bound (see Measure).
package coordinate
