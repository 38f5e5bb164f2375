package redact

import "strings"

// Placeholder replaces a secret wherever collide writes one: result.json,
// logs, errors, reports. It is the only such placeholder.
const Placeholder = "REDACTED"

// MinSecretLen is the length below which Scrub leaves a secret in place:
// replacing every "a" or "pw" of a message would destroy it and hide
// nothing.
const MinSecretLen = 3

// Scrub returns msg with every occurrence of each secret (at least
// MinSecretLen bytes long) replaced by Placeholder. Longer secrets are
// replaced first, so a secret that contains another is hidden whole.
func Scrub(msg string, secrets ...string) string {
	sorted := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if len(s) >= MinSecretLen {
			sorted = append(sorted, s)
		}
	}
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, s := range sorted {
		msg = strings.ReplaceAll(msg, s, Placeholder)
	}
	return msg
}
