package cli

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

//go:generate go run ./genhooks ../../hooks

// gitHook is one git hook oxygen runs as. The table gitHooks is the one place
// that says which hooks there are, where they go, how each is skipped once,
// what git hands it and how it judges; the shims in hooks/ are written from
// it (go generate; a test keeps them in step).
type gitHook struct {
	name string
	// bare: a server's hook, installed in a bare repository. It honours no
	// skip switch: a local-path push passes the pusher's environment to it.
	bare bool
	// skip is the command that skips it once, for the messages.
	skip string
	// refs: git gives it ref updates on standard input; otherwise it judges
	// the staged index.
	refs bool
	// judge judges what the hook is handed.
	judge func(a *app, r *repo, in hookInput) (hookResult, error)
	// serve, in place of judge, speaks git's protocol for the hook on
	// standard input and output itself. Such a hook chains none.
	serve func(a *app, r *repo) error
}

// hookInput is what git hands a hook.
type hookInput struct {
	hook  gitHook
	args  []string // git's arguments
	stdin []byte   // refs hooks: the ref updates
	paths []string // the others: the staged paths
}

var gitHooks = []gitHook{
	{name: "pre-commit", skip: "git commit --no-verify", judge: commitHook},
	{name: "pre-merge-commit", skip: "git merge --no-verify", judge: commitHook},
	{name: "pre-push", skip: "git push --no-verify", refs: true, judge: prePushHook},
	{name: "pre-receive", bare: true, refs: true, judge: preReceiveHook},
	{name: "proc-receive", bare: true, serve: procReceiveHook},
}

// hookNamed returns the row of the hook called name.
func hookNamed(name string) (gitHook, bool) {
	i := slices.IndexFunc(gitHooks, func(h gitHook) bool { return h.name == name })
	if i < 0 {
		return gitHook{}, false
	}
	return gitHooks[i], true
}

// hookNames lists the hooks oxygen installs in a clone, or in a bare
// repository, chaining what was there (not those that serve: see
// installSequencer).
func hookNames(bare bool) []string {
	var out []string
	for _, h := range gitHooks {
		if h.bare == bare && h.serve == nil {
			out = append(out, h.name)
		}
	}
	return out
}

// allHookNames lists every hook oxygen runs as.
func allHookNames() []string {
	out := make([]string, len(gitHooks))
	for i, h := range gitHooks {
		out[i] = h.name
	}
	return out
}

// HookNames lists every hook oxygen runs as, for the shims' generator.
func HookNames() []string { return allHookNames() }

// commitHook judges the staged change as the next commit.
func commitHook(a *app, r *repo, in hookInput) (hookResult, error) {
	vs, err := a.judgeStaged(r, in.paths, in.hook.name)
	footer := "To skip this check once: " + in.hook.skip + " (pre-push, CI and the server still judge the commit)."
	if f := r.store.Freshness(a.now()); f != "" {
		footer = "Judged with the " + f + ".\n" + footer
	}
	return hookResult{violations: vs, footer: footer}, err
}

// prePushHook judges what a push would send.
func prePushHook(a *app, r *repo, in hookInput) (hookResult, error) {
	if len(in.args) != 2 {
		return hookResult{}, errors.New("want the remote's name and URL, as git passes them")
	}
	vs, refsOf, refusals, err := a.prePush(r, in.args[0], in.args[1], in.stdin)
	footer := recommitAdvice + "\nTo skip this check once: git push --no-verify (CI and the server still judge the commits)."
	return hookResult{violations: vs, refsOf: refsOf, refusals: refusals, footer: footer}, err
}

// preReceiveHook is the server's gate.
func preReceiveHook(a *app, r *repo, in hookInput) (hookResult, error) {
	vs, refsOf, refusals, err := a.preReceive(r, in.stdin)
	footer := recommitAdvice
	if who, _ := a.pusher(); who != "" { // preReceive refused an ambiguous one
		footer = "New commits were judged as " + who + ", who pushes them (as the host says).\n" + footer
	}
	return hookResult{violations: vs, refsOf: refsOf, refusals: refusals, footer: footer}, err
}

// Shim is the shell script `oxygen install` writes as the named hook: a few
// lines that hand git's arguments and standard input to `oxygen hook NAME`,
// fail closed when the binary is missing, and honour OXYGEN=0 in a clone.
func Shim(name string) ([]byte, bool) {
	h, ok := hookNamed(name)
	if !ok {
		return nil, false
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!/bin/sh\n# oxygen-hook v1: written by `oxygen install`, removed by `oxygen uninstall`.\n")
	fmt.Fprintf(&b, "# A hook that was here before is kept as %s.oxygen-chained and runs first.\n", h.name)
	fix := "install it with ./install.sh, skip once with " + h.skip + ", or remove the hook"
	if h.bare {
		fmt.Fprintf(&b, "# The server's gate has no skip switch: a pusher's environment can reach it.\n")
		fix = "install oxygen on this server, or remove the hook"
	} else {
		fmt.Fprintf(&b, "[ \"${OXYGEN:-}\" = 0 ] && exit 0\n")
	}
	fmt.Fprintf(&b, "command -v oxygen >/dev/null 2>&1 || {\n")
	fmt.Fprintf(&b, "\techo \"oxygen: the %s hook needs the oxygen binary, which is not on PATH: refused.\" >&2\n", h.name)
	fmt.Fprintf(&b, "\techo \"  %s: rm \\\"$0\\\"\" >&2\n", fix)
	fmt.Fprintf(&b, "\texit 1\n}\nexec oxygen hook %s \"$@\"\n", h.name)
	return b.Bytes(), true
}
