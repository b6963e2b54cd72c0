package cli

import (
	"fmt"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// stateUntracked checks that git tracks no file in the clone's state
// folder. Those files are the clone's own: one that a commit brought
// there (a pull replaces an ignored file without a word) would let whoever
// wrote the commit decide this clone's leases and history. headState is
// HEAD:.substrate as git resolved it beside the repository's folders ([""]:
// none; empty: git did not get to it). Only where HEAD has the folder is
// the index read, so that a staged removal, the fix, is seen.
func (a *app) stateUntracked(d git.Dirs, headState []string) error {
	if d.Bare {
		return nil // a server's store is its state ref
	}
	if len(headState) == 0 {
		ids, err := a.git.ObjectIDs("", []string{"HEAD:" + policy.StateDir})
		if err != nil {
			return err
		}
		headState = ids
	}
	if headState[0] == "" {
		return nil
	}
	files, err := a.git.TrackedUnder(policy.StateDir)
	if err != nil || len(files) == 0 {
		return err
	}
	return fmt.Errorf("%s/ holds this clone's own coordination state, but git tracks %s in it (%s): a commit put it there, so the state is not trusted; stop tracking it with: git rm -r --cached %s && git commit -m 'Stop tracking %s' (then look at what that commit left in %s/state)",
		policy.StateDir, count(len(files), "file"), files[0], policy.StateDir, policy.StateDir, policy.StateDir)
}
