package cli

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/install"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// A server decides the acts of clones whose policy says store.sequenced
// (store/sequencer.go): receive-pack hands the pushes to git.ActsRefs to
// oxygen's proc-receive hook, where receive.procReceiveRefs names them,
// and the hook records each act on the state ref and answers for it.

// procReceiveKey is the config that routes pushes to the hook.
const procReceiveKey = "receive.procReceiveRefs"

// procReceiveHook is the server's sequencer: it speaks git's proc-receive
// protocol on standard input and output, decides the act a push carries,
// prints the answer for the pusher on standard error, and tells
// receive-pack which ref moved.
func procReceiveHook(a *app, r *repo) error {
	pr, err := git.ReadProcReceive(bufio.NewReader(a.stdin), a.stdout)
	if err != nil {
		return err
	}
	ups := pr.Updates
	req, carried, reqErr := store.RequestOf(pr.Options)
	who, whoErr := a.pusher()
	answers := make([]git.ProcReceiveAnswer, len(ups))
	decided := false
	for i, up := range ups {
		ans := &answers[i]
		ans.Ref = up.Ref
		switch {
		case !isAct(up.Ref):
			ans.Refused = fmt.Sprintf("oxygen decides acts here, pushed to %s/<kind>; nothing else (is %s more than %s?)", git.ActsRefs, procReceiveKey, git.ActsRefs)
		case pr.Atomic:
			// The act would be recorded whatever became of the rest.
			ans.Refused = "an act is not part of an atomic push (oxygen's own acts never are)"
		case whoErr != nil:
			ans.Refused = whoErr.Error()
		case reqErr != nil:
			ans.Refused = reqErr.Error()
		case !carried:
			ans.Refused = "no act came with the push: oxygen's own acts (oxygen claim and the like) carry one"
		case decided:
			ans.Refused = "a push carries one act"
		default:
			decided = true
			seq := store.Sequencer{Git: a.git, GitDir: r.dirs.CommonDir, Ref: r.policy.Store.Ref, Policy: r.policy, Pusher: who, Clock: a.now}
			o, err := seq.Act(req)
			fmt.Fprintln(a.stderr, store.Answer(o, err))
			if err != nil {
				ans.Refused = err.Error()
				continue
			}
			ans.Moved, ans.Old, ans.New = r.policy.Store.Ref, o.Move.Old, o.Move.New
			continue
		}
		// Refused undecided: the pusher reads why in the answer, as ever
		// (git prints the reason given below only beside the ref).
		fmt.Fprintln(a.stderr, store.Answer(store.Outcome{}, errors.New(ans.Refused)))
	}
	return git.WriteProcReceive(a.stdout, answers)
}

// isAct says whether a push to ref is an act, for the proc-receive hook.
func isAct(ref string) bool { return strings.HasPrefix(ref, git.ActsRefs+"/") }

// sequencing says whether receive-pack hands pushes to git.ActsRefs to
// oxygen's proc-receive hook in g's repository. Where it does not, such a
// push would make a ref of that name, which nothing reads: the gate
// refuses it.
func sequencing(g git.Runner) (bool, error) {
	vals, err := g.ConfigValues(procReceiveKey)
	return slices.Contains(vals, git.ActsRefs), err
}

// installSequencer installs the proc-receive hook in a bare repository and
// routes pushes to git.ActsRefs to it, where no other proc-receive hook is
// in place (one cannot chain another: each answers for its updates).
func (a *app) installSequencer(d git.Dirs) ([]install.Action, error) {
	// Where the hooks keep the policy file they read, so that it is read
	// from git once per version, not on every push.
	if err := store.OpenLocal(storeRoot(d)).Prepare(); err != nil {
		return nil, err
	}
	shim, _ := Shim("proc-receive")
	acts, err := install.InstallAlone(d.Hooks, "proc-receive", shim)
	if err != nil || !slices.ContainsFunc(acts, func(x install.Action) bool { return !strings.HasPrefix(x.What, "left") }) {
		return acts, err
	}
	r, err := a.git.ForRepo(d.CommonDir)
	if err != nil {
		return acts, err
	}
	on, err := sequencing(r)
	if err == nil && !on {
		if err = r.ConfigAdd(procReceiveKey, git.ActsRefs); err == nil {
			acts = append(acts, install.Action{Hook: "proc-receive", What: "routed " + git.ActsRefs + " to it (" + procReceiveKey + ")"})
		}
	}
	if err == nil {
		// The act travels as a push option.
		var vals []string
		if vals, err = r.ConfigValues("receive.advertisePushOptions"); err == nil && !slices.Contains(vals, "true") {
			if _, err = r.Run(nil, "config", "--local", "receive.advertisePushOptions", "true"); err == nil {
				acts = append(acts, install.Action{Hook: "proc-receive", What: "turned receive.advertisePushOptions on"})
			}
		}
	}
	return acts, err
}

// uninstallSequencer takes out what installSequencer put in; it leaves
// receive.advertisePushOptions, which other hooks may read.
func (a *app) uninstallSequencer(d git.Dirs) ([]install.Action, error) {
	acts, err := install.Uninstall(d.Hooks, []string{"proc-receive"})
	if err != nil {
		return acts, err
	}
	r, err := a.git.ForRepo(d.CommonDir)
	if err == nil {
		err = r.ConfigUnset(procReceiveKey, git.ActsRefs)
	}
	return acts, err
}

// notSequencing is what the gate says of a push to git.ActsRefs where no
// oxygen decides acts.
var notSequencing = fmt.Errorf("this server decides no acts: %s does not name %s (oxygen install --repo on the server sets it), so clones must decide their own: take sequenced out of the store in %s", procReceiveKey, git.ActsRefs, policy.FileName)

// notOurHook is what it says where the routing is there but the hook that
// pushes to git.ActsRefs reach is not oxygen's: that hook may make refs of
// them (or let receive-pack make them, falling through), which the gate
// passed unjudged, and a ref makes its commits count as judged already.
var notOurHook = fmt.Errorf("this server decides no acts: %s names %s, but its proc-receive hook is not oxygen's (oxygen install --repo on the server installs it, where no other is in place), so clones must decide their own: take sequenced out of the store in %s", procReceiveKey, git.ActsRefs, policy.FileName)

// actsRefused says why the gate refuses pushes to git.ActsRefs in g's
// repository, whose hooks are in folder hooks: nil where oxygen's
// proc-receive hook takes them, so that no ref is ever made of one.
func actsRefused(g git.Runner, hooks string) (why, err error) {
	on, err := sequencing(g)
	if err != nil || !on {
		return notSequencing, err
	}
	if ours, err := install.Ours(hooks, "proc-receive"); err != nil || !ours {
		return notOurHook, err
	}
	return nil, nil
}
