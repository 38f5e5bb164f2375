package invariants

import (
	"strings"
	"testing"
)

// seedFixes are the headings of "How to Fix It" in the race-condition
// article the project follows (../shared/seeds/001, copied here so the test
// runs on a fresh clone). Every usual fix of a race class starts with one.
var seedFixes = []string{
	"Use atomic database operations",
	"Add optimistic locking",
	"Wrap operations in transactions",
	"Implement idempotency keys",
	"Use distributed locks for critical sections",
}

// TestFixesFollowTheSeedList holds every race class's fix to the seed's
// list: the heading, a colon, then the concrete statement.
func TestFixesFollowTheSeedList(t *testing.T) {
	fixes := map[string]string{
		"counter": counterFix, "bounded_debits": debitFix, "never_negative": neverNegativeFix,
		"conservation": conservationFix, "no_lost_update": noLostUpdateFix, "newest_wins": newestWinsFix,
		"unique": uniqueFix, "exactly_one": exactlyOneFix, "all_present": allPresentFix,
		"linearizable": linearizableFix, "locks two holders": twoHoldersFix,
		"locks never expired": neverExpireFix, "locks shared token": tokenFix,
	}
	for name, fix := range fixes {
		t.Run(name, func(t *testing.T) {
			for _, h := range seedFixes {
				if strings.HasPrefix(fix, h+": ") && len(fix) > len(h)+10 {
					return
				}
			}
			t.Errorf("fix %q starts with none of the seed's fixes %q", fix, seedFixes)
		})
	}
}
