// Package profiles owns the profile format: the schema (format version 1),
// loading YAML with ${ENV} expansion and --set overrides, validation whose
// errors name the file, line and field path, and the built-in profiles
// embedded from builtin/*.yaml. It does not know how a run executes.
//
// Load (a path or a built-in name) and Parse run one pipeline: YAML →
// overrides → ${ENV} → strict decoding → validation → defaults. Every
// profile error is an *Error ("counter.yaml:12: operations[0].rate: …").
// Checks that belong to other packages (fault kinds, request templates,
// checker expressions) report through Profile.Errorf, which positions an
// error at a field path with the same format. The format is documented in
// docs/profiles.md.
package profiles
