// Package install writes oxygen's hook shims into a hooks folder and takes
// them out again, keeping any hook that was there before.
package install

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Fingerprint marks a hook file as oxygen's own.
var Fingerprint = []byte("# oxygen-hook v1")

// ChainedSuffix is appended to the name of a hook that was there before
// oxygen's; oxygen's shim runs it first.
const ChainedSuffix = ".oxygen-chained"

// Action is what happened to one hook.
type Action struct {
	Hook string `json:"hook"`
	What string `json:"what"` // "installed", "unchanged", "updated", "chained <file>", "removed", "restored <file>", "left <reason>"
}

// Install writes each shim (hook name -> content) into dir. It is
// idempotent: a shim already in place is left alone, an older one of
// oxygen's is updated, and a foreign hook is renamed to <hook>.oxygen-chained
// so that it keeps running before oxygen. A hook manager's hook is not
// chained: Install writes nothing and returns a *ManagedError.
func Install(dir string, shims map[string][]byte, names []string) ([]Action, error) {
	for _, name := range names {
		file := filepath.Join(dir, name)
		old, err := readHook(file)
		if err != nil {
			return nil, err
		}
		if m := managerOf(old); m != "" {
			return nil, &ManagedError{File: file, Hook: name, Manager: m}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the hooks folder: %w", err)
	}
	var done []Action
	for _, name := range names {
		file := filepath.Join(dir, name)
		old, err := readHook(file)
		if err != nil {
			return done, err
		}
		act := Action{Hook: name}
		switch {
		case old == nil:
			act.What = "installed"
		case bytes.Equal(old, shims[name]):
			act.What = "unchanged"
			done = append(done, act)
			continue
		case bytes.Contains(old, Fingerprint):
			act.What = "updated"
		default:
			chained := file + ChainedSuffix
			if _, err := os.Lstat(chained); err == nil {
				return done, fmt.Errorf("%s: a foreign hook is in place and %s exists too; merge them by hand, then run oxygen install again", file, filepath.Base(chained))
			}
			if err := os.Rename(file, chained); err != nil {
				return done, fmt.Errorf("keep the existing %s hook: %w", name, err)
			}
			act.What = "chained " + filepath.Base(chained)
		}
		if err := writeExecutable(file, shims[name]); err != nil {
			return done, err
		}
		done = append(done, act)
	}
	return done, nil
}

// InstallAlone writes the shim of a hook that cannot chain another (a
// proc-receive hook answers for the updates it is handed: two cannot), so
// a foreign one is left in place, and the Action says so.
func InstallAlone(dir, name string, shim []byte) ([]Action, error) {
	file := filepath.Join(dir, name)
	old, err := readHook(file)
	if err != nil {
		return nil, err
	}
	act := Action{Hook: name, What: "installed"}
	switch {
	case bytes.Equal(old, shim):
		return []Action{{Hook: name, What: "unchanged"}}, nil
	case bytes.Contains(old, Fingerprint):
		act.What = "updated"
	case old != nil:
		return []Action{{Hook: name, What: "left (another " + name + " hook is there, and it cannot be chained)"}}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the hooks folder: %w", err)
	}
	if err := writeExecutable(file, shim); err != nil {
		return nil, err
	}
	return []Action{act}, nil
}

// Uninstall removes oxygen's shims from dir and puts back the hooks they
// chained. A hook that is not oxygen's is left as it is.
func Uninstall(dir string, names []string) ([]Action, error) {
	var done []Action
	for _, name := range names {
		file := filepath.Join(dir, name)
		old, err := readHook(file)
		if err != nil {
			return done, err
		}
		if old == nil {
			continue
		}
		if !bytes.Contains(old, Fingerprint) {
			done = append(done, Action{Hook: name, What: "left (not oxygen's)"})
			continue
		}
		if err := os.Remove(file); err != nil {
			return done, fmt.Errorf("remove the %s hook: %w", name, err)
		}
		act := Action{Hook: name, What: "removed"}
		chained := file + ChainedSuffix
		if _, err := os.Lstat(chained); err == nil {
			if err := os.Rename(chained, file); err != nil {
				return done, fmt.Errorf("restore %s: %w", filepath.Base(chained), err)
			}
			act.What = "restored " + name
		}
		done = append(done, act)
	}
	return done, nil
}

// Ours says whether dir's hook name is one of oxygen's shims.
func Ours(dir, name string) (bool, error) {
	data, err := readHook(filepath.Join(dir, name))
	return bytes.Contains(data, Fingerprint), err
}

// maxHook bounds what is read of an existing hook: a shim is a few lines.
const maxHook = 1 << 20

// readHook returns a hook file's content, or nil if there is none. What is
// not a regular file of at most maxHook bytes (a dangling symlink, one to
// /dev/zero in a committed hooks folder) is foreign and not read: it comes
// back empty.
func readHook(file string) ([]byte, error) {
	fi, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		if _, lerr := os.Lstat(file); lerr == nil {
			return []byte{}, nil // a dangling symlink: foreign, keep it
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the existing hook: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxHook {
		return []byte{}, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the existing hook: %w", err)
	}
	return data, nil
}

func writeExecutable(file string, data []byte) error {
	return writeFile(file, data, 0o755)
}

// writeFile replaces file atomically with data, with exactly the given mode
// whatever the umask. The temp file is created new under a random name
// (O_EXCL): a committed symlink where it would go (husky's scripts are
// committed) is never written through.
func writeFile(file string, data []byte, mode fs.FileMode) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := file + ".oxygen-tmp-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
