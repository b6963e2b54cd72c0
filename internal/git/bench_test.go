package git

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchRange fakes what `git log -z -c --name-status` prints (Log's
// format) for n commits of k paths each, and `git rev-list`'s formatted
// lines for the same commits.
func benchRange(n, k int) (log, revList []byte) {
	var lg, rl bytes.Buffer
	prev := ""
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15+1)
		var paths []string
		for j := 0; j < k; j++ {
			paths = append(paths, fmt.Sprintf("src/pkg%d/sub%d/dir%d/file%d_%d.go", i%40, j, i%7, i, j))
		}
		lg.Write(logRecord(id, prev, 1700000000+i, fmt.Sprintf("change %d: touch %d files", i, k), paths))
		fmt.Fprintf(&rl, "%s\x00%s\x00ada@builder.example\x00%d\x00%d\x00\x00change %d: touch %d files\n", id, prev, 1700000000+i, 1700000000+i, i, k)
		prev = id
	}
	return lg.Bytes(), rl.Bytes()
}

// logRecord renders one commit as Log's git log prints it: a merge's paths
// after an empty record, an ordinary commit's after a newline.
func logRecord(id, parents string, at int, subject string, paths []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\x00%s\x00%s\x00ada@builder.example\x00%d\x00%d\x00\x00%s\x00", id, parents, at, at, subject)
	status := "M"
	if strings.Contains(parents, " ") {
		b.WriteString("\x00")
		status = "MM"
	} else if len(paths) > 0 {
		b.WriteString("\n")
	}
	for _, p := range paths {
		b.WriteString(status + "\x00" + p + "\x00")
	}
	return b.Bytes()
}

// BenchmarkParseLog parses the change sets of 1,000 commits x 5 paths.
func BenchmarkParseLog(b *testing.B) {
	out, _ := benchRange(1000, 5)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		cs, err := ParseLog(out)
		if err != nil || len(cs) != 1000 || len(cs[999].Paths) != 5 {
			b.Fatalf("%d commits, %v", len(cs), err)
		}
	}
}

// BenchmarkParseRevList parses rev-list's lines for the same 1,000 commits.
func BenchmarkParseRevList(b *testing.B) {
	_, out := benchRange(1000, 5)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		commits, err := ParseRevList(out)
		if err != nil || len(commits) != 1000 {
			b.Fatalf("%d commits, %v", len(commits), err)
		}
	}
}
