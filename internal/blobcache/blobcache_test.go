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
