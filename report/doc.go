// Package report owns the result file (result.json, a versioned schema) and
// everything rendered from it: the terminal table (tablewriter), and later
// compare tables, Markdown, JUnit and HTML. It reads results; it does not know
// how a run executes.
package report
