package git

import (
	"bytes"
	"fmt"
	"testing"
)

// benchRange fakes what `git diff-tree --stdin -r -z --root -c --name-status
// --always` prints for n commits of k paths each, and `git rev-list`'s
// formatted lines for the same commits.
func benchRange(n, k int) (ids []string, diffTree, revList []byte) {
	var dt, rl bytes.Buffer
	prev := ""
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15+1)
		ids = append(ids, id)
		dt.WriteString(id + "\x00")
		for j := 0; j < k; j++ {
			status := "M"
			if j == 0 && i%10 == 0 {
				status = "A"
			}
			fmt.Fprintf(&dt, "%s\x00src/pkg%d/sub%d/dir%d/file%d_%d.go\x00", status, i%40, j, i%7, i, j)
		}
		fmt.Fprintf(&rl, "%s\x00%s\x00ada@builder.example\x00%d\x00change %d: touch %d files\n", id, prev, 1700000000+i, i, k)
		prev = id
	}
	return ids, dt.Bytes(), rl.Bytes()
}

// BenchmarkParseDiffTree parses the change sets of 1,000 commits x 5 paths.
func BenchmarkParseDiffTree(b *testing.B) {
	ids, out, _ := benchRange(1000, 5)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		paths, err := ParseDiffTree(out, ids)
		if err != nil || len(paths) != len(ids) || len(paths[999]) != 5 {
			b.Fatalf("%d commits, %v", len(paths), err)
		}
	}
}

// BenchmarkParseRevList parses rev-list's lines for the same 1,000 commits.
func BenchmarkParseRevList(b *testing.B) {
	_, _, out := benchRange(1000, 5)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		commits, err := ParseRevList(out)
		if err != nil || len(commits) != 1000 {
			b.Fatalf("%d commits, %v", len(commits), err)
		}
	}
}
