// Package profiles owns the profile format: the schema (format version 1),
// loading YAML with ${ENV} expansion and --set overrides, validation whose
// errors name the file, line and field path, and the built-in profiles
// embedded from builtin/*.yaml. It does not know how a run executes.
package profiles
