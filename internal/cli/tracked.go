package cli

import (
	"fmt"
	"path/filepath"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// stateSpec names the state folder in the commit checked out where the
// store lives: the main worktree's, whichever worktree oxygen runs in.
const stateSpec = "main-worktree/HEAD:" + policy.StateDir

// stateUntracked checks that git tracks no file in the clone's state
// folder. Those files are the clone's own: one that a commit brought
// there (a pull replaces an ignored file without a word) would let whoever
// wrote the commit decide this clone's leases and history. headState is
// stateSpec as git resolved it beside the repository's folders ([""]:
// none; empty: git did not get to it). Only where the commit has the
// folder is the index read, so that a staged removal, the fix, is seen.
func (a *app) stateUntracked(d git.Dirs, headState []string) error {
	if d.Bare || filepath.Base(d.CommonDir) != ".git" {
		return nil // the store is inside the git dir, where no checkout writes
	}
	if len(headState) == 0 {
		ids, err := a.git.ObjectIDs("", []string{stateSpec})
		if err != nil {
			return err
		}
		headState = ids
	}
	if headState[0] == "" {
		return nil
	}
	root := filepath.Dir(d.CommonDir)
	if d.GitDir != d.CommonDir {
		// A linked worktree: the main worktree's index is not at hand.
		return fmt.Errorf("%s/ holds this clone's own coordination state, but the main worktree's HEAD tracks files in it: a commit put them there, so the state is not trusted; stop tracking them in the main worktree with: git -C %s rm -r --cached %s && git -C %s commit -m 'Stop tracking %s'",
			policy.StateDir, policy.ShellQuote(root), policy.StateDir, policy.ShellQuote(root), policy.StateDir)
	}
	files, err := a.git.TrackedUnder(policy.StateDir)
	if err != nil || len(files) == 0 {
		return err
	}
	return fmt.Errorf("%s/ holds this clone's own coordination state, but git tracks %s in it (%s): a commit put it there, so the state is not trusted; stop tracking it with: git rm -r --cached %s && git commit -m 'Stop tracking %s' (then look at what that commit left in %s/state)",
		policy.StateDir, count(len(files), "file"), files[0], policy.StateDir, policy.StateDir, policy.StateDir)
}
