package blobcache

import (
	"os"
	"path/filepath"
	"testing"
)

// git hash-object of "version: 1\n" (SHA-1).
const known = "b82551848c644f63b8517a7bdf8be9a992e6f4da"

func TestID(t *testing.T) {
	if got := ID([]byte("version: 1\n"), 40); got != known {
		t.Fatalf("ID = %s, want %s (git hash-object)", got, known)
	}
	if got := ID(nil, 40); got != "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" {
		t.Fatalf("ID of the empty blob = %s", got)
	}
	if got := ID(nil, 64); got != "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813" {
		t.Fatalf("SHA-256 ID of the empty blob = %s", got)
	}
}

func TestPutGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if _, ok := Get(dir, known); ok {
		t.Fatal("a hit in an empty cache")
	}
	if err := Put(dir, known, []byte("version: 2\n")); err == nil {
		t.Fatal("Put kept content under an id it does not hash to")
	}
	if err := Put(dir, known, []byte("version: 1\n")); err != nil {
		t.Fatal(err)
	}
	if data, ok := Get(dir, known); !ok || string(data) != "version: 1\n" {
		t.Fatalf("Get = %q, %v", data, ok)
	}
	// A copy changed on disk no longer counts.
	if err := os.WriteFile(filepath.Join(dir, known), []byte("version: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := Get(dir, known); ok {
		t.Fatal("a tampered copy was trusted")
	}
	for _, bad := range []string{"", "../x", known[:39], known + "0", "zz" + known[2:]} {
		if _, ok := Get(dir, bad); ok {
			t.Fatalf("Get(%q) hit", bad)
		}
		if Put(dir, bad, nil) == nil {
			t.Fatalf("Put(%q) accepted", bad)
		}
	}
}

// TestPutNeverFollowsLinks: a symlink where the copy goes, or where the
// cache folder goes, is never written through.
func TestPutNeverFollowsLinks(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "victim")
	if err := os.Symlink(target, filepath.Join(dir, known)); err != nil {
		t.Fatal(err)
	}
	if err := Put(dir, known, []byte("version: 1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("Put wrote through the symlink at its copy")
	}
	linked := filepath.Join(root, "linked")
	if err := os.Symlink(outside, linked); err != nil {
		t.Fatal(err)
	}
	if Put(linked, known, []byte("version: 1\n")) == nil {
		t.Fatal("Put took a symlink for its folder")
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Fatalf("Put wrote %s outside", entries[0].Name())
	}
}
