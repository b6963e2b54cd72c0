package oxygen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallInOwnClone runs ./install.sh in a copy of oxygen's own clone,
// as a new contributor would, and commits to docs/ and scripts/ as someone
// no policy names: oxygen's own resources.yaml is a policy for its
// contributors, not the reference policy with its five domains.
func TestInstallInOwnClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oxygen with install.sh")
	}
	goenv := map[string]string{}
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOROOT"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Skipf("install.sh needs the go command: %v", err)
		}
		goenv[v] = strings.TrimSpace(string(out))
	}
	root := t.TempDir()
	s := newSh(t, filepath.Join(root, "home"))
	listed, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil || len(listed) == 0 {
		t.Skipf("not in a clone of oxygen: %v", err)
	}
	clone := filepath.Join(root, "oxygen")
	for _, name := range strings.Split(strings.TrimSuffix(string(listed), "\x00"), "\x00") {
		info, err := os.Lstat(name)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or not a plain file
		}
		copyFile(t, name, filepath.Join(clone, name), info.Mode().Perm())
	}
	// The contributor's machine: oxygen goes into ~/bin, which is on PATH;
	// Go builds from this machine's caches, offline.
	bin := filepath.Join(root, "bin")
	dev := s.in(clone).with("PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOCACHE="+goenv["GOCACHE"], "GOMODCACHE="+goenv["GOMODCACHE"], "GOROOT="+goenv["GOROOT"], "GOPROXY=off", "GOFLAGS=-mod=readonly")
	dev.ok("git", "init", "-q")
	dev.ok("git", "add", "-A")
	dev.ok("git", "commit", "-q", "-m", "oxygen as cloned")

	out := dev.ok("./install.sh", "--prefix", bin)
	for _, want := range []string{"built " + filepath.Join(bin, "oxygen"), "pre-commit: installed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("./install.sh said:\n%s\nwant %q", out, want)
		}
	}

	zoe := dev.with("GIT_AUTHOR_EMAIL=zoe@elsewhere.example", "GIT_COMMITTER_EMAIL=zoe@elsewhere.example")
	appendTo(t, filepath.Join(clone, "docs/hook-managers.md"), "\nA contributor's note.\n")
	appendTo(t, filepath.Join(clone, "scripts/bench.sh"), "\n# a contributor's note\n")
	zoe.ok("git", "commit", "-q", "-a", "-m", "Notes in docs and scripts")

	// The hooks are in force: a shared part of oxygen needs its lease, which
	// any contributor may take.
	appendTo(t, filepath.Join(clone, "internal/store/store.go"), "\n// a contributor's note\n")
	zoe.refused([]string{"git", "commit", "-q", "-a", "-m", "A note in the store"}, "[shadow-edit]", "fix: oxygen claim storage")
	zoe.ok("oxygen", "claim", "storage")
	zoe.ok("git", "commit", "-q", "-a", "-m", "A note in the store")
}

func appendTo(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
