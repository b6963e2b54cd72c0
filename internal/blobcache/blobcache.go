// Package blobcache keeps copies of git blobs by object id, so that a hook
// can read a blob it has seen before without starting a git process. A copy
// counts only if its content still hashes to its id.
package blobcache

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxSize bounds what is cached: a policy is far smaller.
const maxSize = 8 << 20

// Get returns the blob with id from dir, if a copy is there and true.
func Get(dir, id string) ([]byte, bool) {
	file, ok := name(dir, id)
	if !ok {
		return nil, false
	}
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxSize {
		return nil, false
	}
	data, err := os.ReadFile(file)
	if err != nil || ID(data, len(id)) != id {
		return nil, false
	}
	return data, true
}

// Put keeps a copy of the blob with id in dir. It is only a cache: a copy
// that cannot be written is no error worth stopping for, so Put says what
// went wrong and the caller may ignore it.
func Put(dir, id string, data []byte) error {
	file, ok := name(dir, id)
	if !ok || len(data) > maxSize || ID(data, len(id)) != id {
		return errors.New("not a blob of that id")
	}
	if fi, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	} else if err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := file + ".tmp-" + hex.EncodeToString(rnd[:])
	// Created new, never through a symlink; the rename replaces a link at
	// file rather than following it.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func name(dir, id string) (string, bool) {
	if len(id) != 40 && len(id) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return filepath.Join(dir, id), true
}

// ID is git's object id of a blob with this content, in a repository whose
// ids have idLen hex digits (40: SHA-1, 64: SHA-256).
func ID(data []byte, idLen int) string {
	var h hash.Hash = sha1.New()
	if idLen == 64 {
		h = sha256.New()
	}
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}
