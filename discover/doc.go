// Package discover finds race candidates in a service from the SQL its
// requests send, and writes the profiles that prove them (issue 17,
// `collide discover`).
//
// The pipeline, one file (or a few) per stage:
//
//	sources   HAR files (har.go), OpenAPI 3 documents (openapi.go) and a
//	          profile's operations (profile.go) become []Request.
//	drive     each Request is sent alone through the service while a
//	          chaos/tap sits on the service→database link (drive.go); the
//	          statements of its time window become a Trace.
//	analyze   Traces and the database's unique keys (Schema, read from the
//	          catalog: schema.go) become []Finding (analyze.go), each naming
//	          its race class, evidence, checker and fix.
//	generate  each Finding becomes a runnable profile (generate.go);
//	          --prove runs it k times.
//
// The types below are the contract between the stages.
package discover
