// Package report owns the result file (result.json, a versioned schema; see
// docs/results.md) and everything rendered from run folders: the terminal
// table (tablewriter), Markdown for CI job summaries, JUnit XML, one
// self-contained HTML page with SVG charts drawn from the history, the
// side-by-side comparison of runs with its regressions, the list of runs
// below a folder, Vegeta's results format, and the live progress line. It
// reads results; it does not know how a run executes. The formats a
// command's -format names are registered by name, one registry per kind of
// document (RunFormats, ReportFormats, CompareFormats, …; format.go).
package report
