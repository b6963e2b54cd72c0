package cli

import (
	"fmt"
	"slices"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// policyReader loads committed policies by blob id, each version once, for
// policy.InForce to choose from.
type policyReader struct {
	a      *app
	byBlob map[string]policy.Version
	errs   map[string]error // why a version does not load
}

func (a *app) policyReader() *policyReader {
	return &policyReader{a: a, byBlob: map[string]policy.Version{}, errs: map[string]error{}}
}

// load reads the versions not seen yet, in one git process.
func (pr *policyReader) load(ids []string) error {
	var want []string
	for _, id := range ids {
		if _, ok := pr.byBlob[id]; !ok && id != "" && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	content, err := pr.a.blobsByID(want)
	if err != nil {
		return err
	}
	for _, id := range want {
		pr.byBlob[id] = pr.version(id, content[id])
	}
	return nil
}

// version loads one blob.
func (pr *policyReader) version(id string, b git.Blob) policy.Version {
	if b.Missing {
		return policy.Version{}
	}
	p, err := policy.Load(policy.FileName, b.Data)
	if err != nil {
		pr.errs[id] = err
	}
	return policy.Version{Present: true, Policy: p}
}

// lastLoading finds the last policy that loads on rev's first-parent line.
// A commit that deleted the policy ends the search: a policy deleted with
// the coordination lease is not revived by a broken one added later.
func (pr *policyReader) lastLoading(rev string) (*policy.Policy, error) {
	ids, err := pr.a.git.FirstParentVersions(rev, policy.FileName)
	if err != nil {
		return nil, err
	}
	if cut := slices.Index(ids, ""); cut >= 0 {
		ids = ids[:cut]
	}
	if err := pr.load(ids); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if p := pr.byBlob[id].Policy; p != nil {
			return p, nil
		}
	}
	return nil, nil
}

// atTips returns the policy in force at each tip (object ids, or refs oxygen
// names): its own, else the last that loads on its line; nil where there
// is none (or no such tip).
func (pr *policyReader) atTips(revs []string) ([]*policy.Policy, error) {
	specs := make([]string, len(revs))
	for i, rev := range revs {
		specs[i] = rev + ":" + policy.FileName
	}
	oids, err := pr.a.git.ObjectIDs("blob", specs)
	if err != nil {
		return nil, err
	}
	if err := pr.load(oids); err != nil {
		return nil, err
	}
	out := make([]*policy.Policy, len(revs))
	for i, id := range oids {
		v := pr.byBlob[id]
		out[i] = v.Policy
		if v.Present && v.Policy == nil {
			if out[i], err = pr.lastLoading(revs[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// fallback is what judges a commit whose line has no policy of its own:
// the policy of the ref it goes to (its old tip's), and the default
// branch's.
type fallback struct{ ref, def *policy.Policy }

// fallbacks reads, in one pass, the fallback of each ref a push or a check
// updates: old is the ref's old tip ("" for a new ref), def the default
// branch ("" where there is none to name).
func (a *app) fallbacks(olds []string, def string) ([]fallback, error) {
	revs := append(slices.Clone(olds), def)
	for i, rev := range revs {
		if rev == "" || git.IsZeroID(rev) {
			revs[i] = "" // a new ref; no default branch
		}
	}
	ps, err := a.policyReader().atTipsOrNone(revs)
	if err != nil {
		return nil, err
	}
	out := make([]fallback, len(olds))
	for i := range olds {
		out[i] = fallback{ref: ps[i], def: ps[len(olds)]}
	}
	return out, nil
}

// atTipsOrNone is atTips where "" names no tip.
func (pr *policyReader) atTipsOrNone(revs []string) ([]*policy.Policy, error) {
	var named []string
	for _, rev := range revs {
		if rev != "" {
			named = append(named, rev)
		}
	}
	ps, err := pr.atTips(named)
	if err != nil {
		return nil, err
	}
	out := make([]*policy.Policy, len(revs))
	for i, j := 0, 0; i < len(revs); i++ {
		if revs[i] != "" {
			out[i], j = ps[j], j+1
		}
	}
	return out, nil
}

// brokenPolicy is the violation of a change that leaves the policy
// unloadable.
func brokenPolicy(commit, where string, err error) policy.Violation {
	return policy.Violation{
		Commit: commit, Path: policy.FileName, Rule: policy.RuleBrokenPolicy,
		Reason: fmt.Sprintf("%s does not load in %s: %v", policy.FileName, where, err),
		Fix:    fmt.Sprintf("fix %s and commit the fix on top; the last policy that loads judges the fix, so first claim what covers %s there (oxygen explain %s)", policy.FileName, policy.FileName, policy.FileName),
		Remedy: &policy.Fix{Argv: []string{"oxygen", "policy", "lint", policy.FileName},
			Needs: fmt.Sprintf("an edit of %s that loads (lint says where it does not), committed on top; first claim what covers %s (oxygen explain %s)", policy.FileName, policy.FileName, policy.FileName)},
	}
}

// policyLoss refuses the ref updates that would take a branch's policy
// away without a commit that was judged for it: deleting the default
// branch (whose policy judges every new branch), and moving a branch that
// has a policy, other than forward, to a commit that has none.
func (a *app) policyLoss(ups []git.RefUpdate, stateRef string) ([]error, error) {
	var olds []string
	var which []int
	for i, up := range ups {
		if up.Ref != stateRef && !git.IsZeroID(up.Old) {
			olds, which = append(olds, up.Old), append(which, i)
		}
	}
	if len(olds) == 0 {
		return nil, nil
	}
	pr := a.policyReader()
	had, err := pr.atTips(olds)
	if err != nil {
		return nil, err
	}
	head := ""
	var out []error
	for j, i := range which {
		up := ups[i]
		if had[j] == nil {
			continue
		}
		if git.IsZeroID(up.New) {
			if head == "" {
				if head, err = a.git.HeadRef(); err != nil {
					return nil, err
				}
			}
			if up.Ref == head {
				out = append(out, fmt.Errorf("%s: the default branch may not be deleted: its %s judges every new branch (point HEAD at another branch on the server first)", up.Ref, policy.FileName))
			}
			continue
		}
		now, err := pr.atTips([]string{up.New})
		if err != nil {
			return nil, err
		}
		if now[0] != nil {
			continue
		}
		forward, err := a.git.IsAncestor(up.Old, up.New)
		if err != nil {
			return nil, err
		}
		if !forward {
			out = append(out, fmt.Errorf("%s: this update leaves the branch without the %s it had, and no commit was judged for that; remove it with a commit (it needs the coordination lease), not by moving the branch", up.Ref, policy.FileName))
		}
	}
	return out, nil
}
