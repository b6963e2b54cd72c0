package git

import (
	"bufio"
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Commit is one commit to judge.
type Commit struct {
	ID        string
	Parents   []string
	Committer string    // e-mail
	Time      time.Time // committer time: when it was judged to be made
	Authored  time.Time // author time, kept by a rebase that re-dates Time
	Subject   string
	Council   []string // the values of its Council: trailers
	Paths     []string // filled by Log
	Deleted   []string // those of Paths that it deletes (from every parent, for a merge)
}

// ErrShallow means the history needed is not in this (shallow) clone.
var ErrShallow = errors.New("shallow clone: the history to judge is not all here; fetch more of it, e.g. git fetch --unshallow")

// revListFormat prints one line per commit: id, parents, committer e-mail,
// committer time, author time, Council: trailer values, subject, separated
// by NUL (none of them can hold one).
const revListFormat = "--format=%H%x00%P%x00%ce%x00%ct%x00%at%x00%(trailers:key=Council,valueonly,separator=%x2C)%x00%s"

// RevList lists the commits that revs select, parents before children.
// revs must be object ids or options oxygen built, never user text.
func (r Runner) RevList(revs ...string) ([]Commit, error) {
	args := append([]string{"rev-list",
		"--reverse", "--topo-order", // parents first
		"--no-commit-header", // only the formatted line
		revListFormat,
	}, revs...)
	out, err := r.buffered().Run(nil, args...)
	if err != nil {
		return nil, err
	}
	return ParseRevList(out)
}

// ParseRevList reads RevList's output.
func ParseRevList(out []byte) ([]Commit, error) {
	var commits []Commit
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c, err := parseHeader(strings.SplitN(line, "\x00", headerFields))
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// headerFields is how many fields a commit's header has.
const headerFields = 7

// parseHeader reads a commit's header fields: id, parents, committer
// e-mail, committer time, author time, Council: trailer values, subject.
func parseHeader(f []string) (Commit, error) {
	if len(f) != headerFields || !IsObjectID(f[0]) {
		return Commit{}, fmt.Errorf("git: unexpected commit header %q", strings.Join(f, " "))
	}
	secs, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Commit{}, fmt.Errorf("git: bad committer time %q of %s", f[3], f[0])
	}
	asecs, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return Commit{}, fmt.Errorf("git: bad author time %q of %s", f[4], f[0])
	}
	c := Commit{ID: f[0], Parents: strings.Fields(f[1]), Committer: f[2], Time: time.Unix(secs, 0).UTC(), Authored: time.Unix(asecs, 0).UTC(), Council: SplitList(f[5]), Subject: f[6]}
	for _, p := range c.Parents {
		if !IsObjectID(p) {
			return Commit{}, fmt.Errorf("git: bad parent %q of %s", p, f[0])
		}
	}
	return c, nil
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// logFormat starts each commit with an empty record, then its id, parents,
// committer e-mail, committer time, author time, Council: trailer values
// and subject, all NUL-separated (none of them can hold one).
const logFormat = "--format=%x00%H%x00%P%x00%ce%x00%ct%x00%at%x00%(trailers:key=Council,valueonly,separator=%x2C)%x00%s"

// Log lists the commits revs select, parents before children, each with
// every path it changes against its first parent (all its paths for a root
// commit); a merge comes with none (what a merge answers for takes its
// merge bases: the caller works it out). One git process for the whole
// range. revs must be object ids or
// options oxygen built, never user text.
func (r Runner) Log(revs ...string) ([]Commit, error) { return r.LogFrom(nil, revs...) }

// LogFrom is Log from tips, object ids given to git on its standard input
// rather than its command line, which holds only so many: a push may
// update tens of thousands of refs.
func (r Runner) LogFrom(tips []string, revs ...string) ([]Commit, error) {
	var stdin io.Reader
	if len(tips) > 0 {
		in, err := batchInput(tips)
		if err != nil {
			return nil, err
		}
		stdin, revs = in, append([]string{"--stdin"}, revs...) // positive, whatever --not follows
	}
	args := append([]string{
		"-c", "log.showRoot=true", // a root commit lists its paths as added
		"-c", "log.showSignature=false", // nothing but the format
		"log",
		"-z",            // NUL-terminated, unquoted paths
		"--name-status", // a status record before each path, so no path reads as a header
		"--no-renames",  // both sides of a rename
		"--no-relative", // full paths whatever diff.relative says
		"--no-ext-diff", // never a user's diff driver
		"--no-color",
		"--ignore-submodules=none", // submodule pointer changes count
		logFormat,
	}, revs...)
	out, err := r.buffered().Run(stdin, args...)
	if err != nil {
		return nil, err
	}
	commits, err := ParseLog(out)
	return ParentsFirst(commits), err
}

// ParentsFirst orders commits, as git log lists them (newest first, by
// date), so that each comes after every parent it has among them, and
// otherwise oldest first: a linear history comes out as git log --reverse
// --topo-order gives it. git's --topo-order walks the whole range before
// its first line, which on a range of 1,000 commits costs a fifth of the
// log; this costs its commits' parents.
func ParentsFirst(commits []Commit) []Commit {
	n := len(commits)
	at := make(map[string]int, n) // id -> its place, oldest first
	for i, c := range commits {
		at[c.ID] = n - 1 - i
	}
	waiting := make([]int, n)    // parents among commits not yet placed
	children := make([][]int, n) // by place
	for i, c := range commits {
		k := n - 1 - i
		for _, p := range c.Parents {
			if j, ok := at[p]; ok {
				waiting[k]++
				children[j] = append(children[j], k)
			}
		}
	}
	ready := &places{}
	for k := range n {
		if waiting[k] == 0 {
			heap.Push(ready, k)
		}
	}
	out := make([]Commit, 0, n)
	for ready.Len() > 0 {
		k := heap.Pop(ready).(int)
		out = append(out, commits[n-1-k])
		for _, c := range children[k] {
			if waiting[c]--; waiting[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	return out
}

// places is a min-heap of places in a list.
type places []int

func (h places) Len() int           { return len(h) }
func (h places) Less(i, j int) bool { return h[i] < h[j] }
func (h places) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *places) Push(x any)        { *h = append(*h, x.(int)) }
func (h *places) Pop() any {
	x := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return x
}

// ParseLog reads Log's output: per commit, an empty record and the
// header fields, then "<status>\0<path>" pairs. git puts a newline before a
// commit's first status, and an empty record before a merge's; a status is
// upper-case letters and an id is hex, so an empty record followed by an id
// can only be the next header.
func ParseLog(out []byte) ([]Commit, error) {
	recs := SplitNUL(out)
	var commits []Commit
	for i := 0; i < len(recs); {
		if recs[i] != "" || i+headerFields >= len(recs) {
			return nil, fmt.Errorf("git log: unexpected record %q", recs[i])
		}
		c, err := parseHeader(recs[i+1 : i+1+headerFields])
		if err != nil {
			return nil, err
		}
		for i += 1 + headerFields; i < len(recs); {
			rec := recs[i]
			if rec == "" {
				if i+1 < len(recs) && IsObjectID(recs[i+1]) {
					break // the next commit
				}
				i++ // the separator before a merge's paths
				continue
			}
			status := strings.TrimPrefix(rec, "\n")
			if !isStatus(status) || i+1 >= len(recs) {
				return nil, fmt.Errorf("git log: unexpected record %q", rec)
			}
			c.Paths = append(c.Paths, recs[i+1])
			if strings.Trim(status, "D") == "" {
				c.Deleted = append(c.Deleted, recs[i+1])
			}
			i += 2
		}
		commits = append(commits, c)
	}
	return commits, nil
}

func isStatus(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ResolveCommit turns user text into a commit id. An unknown revision is an
// error that says so; in a shallow clone, ErrShallow.
func (r Runner) ResolveCommit(rev string) (string, error) {
	out, err := r.Run(nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		var gerr *Error
		if errors.As(err, &gerr) {
			return "", r.unknownRevision(rev)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// unknownRevision is the error for user text that names no commit here.
// It asks git whether the clone is shallow, rather than taking the
// repository's directories, so that the ends of a range can be resolved
// while those are found.
func (r Runner) unknownRevision(rev string) error {
	if out, _ := r.Run(nil, "rev-parse", "--is-shallow-repository"); strings.TrimSpace(string(out)) == "true" {
		return fmt.Errorf("unknown revision %q: %w", rev, ErrShallow)
	}
	return fmt.Errorf("unknown revision %q (not a commit here; fetch it, or check the name)", rev)
}

// Resolved is user text resolved to a commit.
type Resolved struct {
	ID   string
	Time time.Time // its committer time (zero where its committer line does not parse)
}

// ResolveCommits is ResolveCommit for several revisions in one git
// process, and gives each commit's committer time too: git cat-file reads
// the names on its standard input, where no user text can become an
// option, and prints each commit whole. The first revision that does not
// resolve is ResolveCommit's error. Where git fails outright (it dies on
// HEAD@{99} past the end of the reflog) or a name cannot be a line of its
// input, each is asked again of ResolveCommit, in order, for its error
// (or its id, without a time).
func (r Runner) ResolveCommits(revs ...string) ([]Resolved, error) {
	specs := make([]string, len(revs))
	for i, rev := range revs {
		specs[i] = rev + "^{commit}" // a tag peeled; a tree or blob does not resolve
	}
	out, err := r.resolveBatch(specs)
	var gerr *Error
	if errors.As(err, &gerr) || errors.Is(err, ErrObjectName) {
		got := make([]Resolved, len(revs)) // without their times
		for i, rev := range revs {
			if got[i].ID, err = r.ResolveCommit(rev); err != nil {
				return nil, err
			}
		}
		return got, nil
	}
	if err != nil {
		return nil, err
	}
	got := make([]Resolved, len(revs))
	for i, o := range out {
		if o.Missing {
			return nil, r.unknownRevision(revs[i])
		}
		got[i] = Resolved{ID: o.ID, Time: CommitterTime(o.Data)}
	}
	return got, nil
}

// resolveBatch reads the commits specs name, in one git process.
func (r Runner) resolveBatch(specs []string) ([]Blob, error) {
	in, err := batchInput(specs)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(in, "cat-file", "--batch") // "<oid> commit <size>" and the object, or "<name> missing"
	if err != nil {
		return nil, err
	}
	return parseBatch(bytes.NewReader(out), specs, "commit")
}

// CommitterTime reads a commit object's committer time, from the
// "committer <name> <<email>> <unix time> <zone>" line of its header, as
// git's %ct does (the number after the last '>'); zero where there is none.
func CommitterTime(obj []byte) time.Time {
	for len(obj) > 0 {
		line := obj
		if i := bytes.IndexByte(obj, '\n'); i >= 0 {
			line, obj = obj[:i], obj[i+1:]
		} else {
			obj = nil
		}
		if len(line) == 0 {
			break // the end of the header
		}
		rest, ok := bytes.CutPrefix(line, []byte("committer "))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest[bytes.LastIndexByte(rest, '>')+1:]))
		if len(f) == 0 {
			return time.Time{}
		}
		secs, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return time.Time{}
		}
		return time.Unix(secs, 0).UTC()
	}
	return time.Time{}
}

// ShallowCommits returns the commits whose parents a shallow clone lacks.
func ShallowCommits(d Dirs) (map[string]bool, error) {
	f, err := os.Open(filepath.Join(d.CommonDir, "shallow"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); IsObjectID(id) {
			out[id] = true
		}
	}
	return out, sc.Err()
}

// ObjectIDs resolves object names ("<rev>:resources.yaml") in one process;
// a name that does not resolve to an object of type typ ("": any type)
// gives "".
func (r Runner) ObjectIDs(typ string, specs []string) ([]string, error) {
	objs, err := r.Objects(specs)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(objs))
	for i, o := range objs {
		if o.Type == typ || typ == "" {
			ids[i] = o.ID
		}
	}
	return ids, nil
}

// Object is an object name resolved: its id and type ("commit", "tag",
// "tree", "blob"), or both empty where the name does not resolve.
type Object struct{ ID, Type string }

// Objects resolves object names in one process.
func (r Runner) Objects(specs []string) ([]Object, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	in, err := batchInput(specs)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(in, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(specs) {
		return nil, fmt.Errorf("git cat-file --batch-check: %d answers for %d names", len(lines), len(specs))
	}
	objs := make([]Object, len(specs))
	for i, line := range lines {
		if oid, t, ok := strings.Cut(line, " "); ok && t != "missing" && t != "ambiguous" && IsObjectID(oid) {
			objs[i] = Object{ID: oid, Type: t}
		}
	}
	return objs, nil
}

// PushRef is one line of pre-push's standard input.
type PushRef struct {
	LocalRef, LocalID, RemoteRef, RemoteID string
}

// Deletes reports whether the push deletes the remote ref.
func (p PushRef) Deletes() bool { return IsZeroID(p.LocalID) }

// Creates reports whether the remote ref is new.
func (p PushRef) Creates() bool { return IsZeroID(p.RemoteID) }

// IsZeroID reports whether id is git's all-zero id (40 or 64 digits).
func IsZeroID(id string) bool { return IsObjectID(id) && strings.Trim(id, "0") == "" }

// ParsePrePush reads "<local ref> <local id> <remote ref> <remote id>"
// lines, every one of them (a push can update many refs).
func ParsePrePush(rd io.Reader) ([]PushRef, error) {
	var refs []PushRef
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxHookLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 4 || f[0] == "" || f[2] == "" || !IsObjectID(f[1]) || !IsObjectID(f[3]) {
			return nil, fmt.Errorf("pre-push input line %d: want \"<local ref> <local id> <remote ref> <remote id>\", got %q", n, line)
		}
		refs = append(refs, PushRef{LocalRef: f[0], LocalID: f[1], RemoteRef: f[2], RemoteID: f[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, hookInputError("pre-push", len(refs)+1, err)
	}
	return refs, nil
}

// maxHookLine bounds one line of a hook's input: a ref name is far shorter.
const maxHookLine = 1 << 20

// hookInputError says why line n of a hook's input cannot be read.
func hookInputError(hook string, n int, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s input line %d: longer than %d bytes, which no ref update is", hook, n, maxHookLine)
	}
	return fmt.Errorf("%s input line %d: %w", hook, n, err)
}

// RefUpdate is one line of pre-receive's standard input.
type RefUpdate struct {
	Old, New, Ref string
}

// ParsePreReceive reads "<old id> <new id> <ref>" lines, every one of them.
func ParsePreReceive(rd io.Reader) ([]RefUpdate, error) {
	var ups []RefUpdate
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxHookLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 3 || !IsObjectID(f[0]) || !IsObjectID(f[1]) || !strings.HasPrefix(f[2], "refs/") {
			return nil, fmt.Errorf("pre-receive input line %d: want \"<old id> <new id> <ref>\", got %q", n, line)
		}
		ups = append(ups, RefUpdate{Old: f[0], New: f[1], Ref: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, hookInputError("pre-receive", len(ups)+1, err)
	}
	return ups, nil
}

// FirstParentVersions lists the object ids path had on rev's first-parent
// line, newest first: one for each commit there that changed it, "" where
// one deleted it. rev must be an object id or a ref oxygen built.
func (r Runner) FirstParentVersions(rev, path string) ([]string, error) {
	out, err := r.buffered().Run(nil, "log",
		"--first-parent", // the line itself; a merge against its first parent
		"--format=",      // no header: the raw records only
		"--raw", "-z",    // ":<mode> <mode> <old> <new> <status>\0<path>\0"
		"--no-abbrev",   // whole object ids
		"--no-renames",  // the path's own history
		"--no-ext-diff", // never a user's diff driver
		"--no-color",    // whatever color.ui says
		rev, "--", ":(literal)"+path)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ParseRaw(out) {
		if e.Path == path {
			ids = append(ids, e.ID)
		}
	}
	return ids, nil
}

// RawEntry is one path of a raw diff: its mode and object id on the new
// side, "" for both where the diff deletes it.
type RawEntry struct {
	Path, Mode, ID string
}

// ParseRaw reads `--raw -z` records, skipping anything else (headers, the
// newlines log puts between commits).
func ParseRaw(out []byte) []RawEntry {
	var es []RawEntry
	recs := SplitNUL(out)
	for i := 0; i+1 < len(recs); i++ {
		f := strings.Fields(strings.TrimLeft(recs[i], "\n"))
		if len(f) != 5 || !strings.HasPrefix(f[0], ":") {
			continue
		}
		e := RawEntry{Path: recs[i+1], Mode: f[1], ID: f[3]}
		if IsZeroID(e.ID) {
			e.Mode, e.ID = "", ""
		}
		es = append(es, e)
		i++
	}
	return es
}

// MergeBases lists the best common ancestors of commits a and b; none for
// unrelated histories.
func (r Runner) MergeBases(a, b string) ([]string, error) {
	out, err := r.Run(nil, "merge-base", "--all", a, b)
	var gerr *Error
	if errors.As(err, &gerr) && gerr.Code == 1 && len(out) == 0 {
		return nil, nil // no common ancestor
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// TreeDiffs diffs pairs of commits (from, to) in one git process and
// returns, for each pair, the paths that differ, as they are in to.
func (r Runner) TreeDiffs(pairs [][2]string) ([]map[string]RawEntry, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	var in strings.Builder
	for _, p := range pairs {
		if !IsObjectID(p[0]) || !IsObjectID(p[1]) {
			return nil, fmt.Errorf("git diff-tree: bad pair %q", p)
		}
		in.WriteString(p[1] + " " + p[0] + "\n") // "<commit> <parent>": the diff from the second to the first
	}
	out, err := r.buffered().Run(strings.NewReader(in.String()), "diff-tree",
		"--stdin",           // the pairs
		"--always",          // a header for every pair, even one with no difference
		"-r", "-z", "--raw", // every file, NUL-terminated raw records
		"--no-abbrev",              // whole object ids
		"--no-renames",             // both sides of a rename
		"--no-ext-diff",            // never a user's diff driver
		"--ignore-submodules=none", // submodule pointer changes count
	)
	if err != nil {
		return nil, err
	}
	return parseTreeDiffs(SplitNUL(out), len(pairs))
}

// parseTreeDiffs splits diff-tree --stdin --always output into one map a
// pair: each pair's header is an object id where a raw record (":...")
// could start, and a path follows each raw record.
func parseTreeDiffs(recs []string, n int) ([]map[string]RawEntry, error) {
	var out []map[string]RawEntry
	for i := 0; i < len(recs); i++ {
		rec := strings.TrimLeft(recs[i], "\n")
		if IsObjectID(rec) {
			out = append(out, map[string]RawEntry{})
			continue
		}
		es := ParseRaw([]byte(rec + "\x00" + recs[min(i+1, len(recs)-1)] + "\x00"))
		if len(out) == 0 || len(es) != 1 || i+1 >= len(recs) {
			return nil, fmt.Errorf("git diff-tree: unexpected record %q", rec)
		}
		out[len(out)-1][es[0].Path] = es[0]
		i++
	}
	if len(out) != n {
		return nil, fmt.Errorf("git diff-tree: %d answers for %d pairs", len(out), n)
	}
	return out, nil
}

// Upstream names the current branch's upstream ref, "" where it has none
// (or HEAD is detached).
func (r Runner) Upstream() (string, error) {
	out, err := r.Run(nil, "for-each-ref",
		"--format=%(HEAD)%(upstream)", // "*" marks the current branch
		"refs/heads/")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if up, ok := strings.CutPrefix(line, "*"); ok {
			return up, nil
		}
	}
	return "", nil
}

// HeadRef names the branch HEAD points at ("" when detached).
func (r Runner) HeadRef() (string, error) {
	out, err := r.Run(nil, "symbolic-ref", "-q", "HEAD")
	var gerr *Error
	if errors.As(err, &gerr) && gerr.Code == 1 {
		return "", nil
	}
	return strings.TrimSpace(string(out)), err
}

// Unpushed lists, newest first, up to max commits on HEAD that no
// remote-tracking ref has, with their committer times.
func (r Runner) Unpushed(max int) ([]Commit, error) {
	out, err := r.buffered().Run(nil, "rev-list",
		fmt.Sprintf("--max-count=%d", max), // a bounded walk
		"--no-commit-header", "--format=%H %ct",
		"HEAD", "--not", "--remotes")
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, ct, _ := strings.Cut(line, " ")
		secs, err := strconv.ParseInt(ct, 10, 64)
		if !IsObjectID(id) || err != nil {
			continue
		}
		cs = append(cs, Commit{ID: id, Time: time.Unix(secs, 0).UTC()})
	}
	return cs, nil
}

// Node is a commit in a window of the commit graph.
type Node struct {
	Parents []string
	Time    int64 // committer time
}

// Graph lists up to max commits reachable from revs, newest first, with
// their parents and committer times: enough to find merge bases without a
// process for each merge. revs must be object ids.
func (r Runner) Graph(max int, revs ...string) (map[string]Node, error) {
	args := append([]string{"rev-list",
		fmt.Sprintf("--max-count=%d", max), // a bounded window
		"--date-order",                     // the newest history first, as merge bases are
		"--no-commit-header", "--format=%H %ct %P",
	}, revs...)
	out, err := r.buffered().Run(nil, args...)
	if err != nil {
		return nil, err
	}
	return ParseGraph(out)
}

// ParseGraph reads Graph's lines: "<id> <committer time> <parent>...".
func ParseGraph(out []byte) (map[string]Node, error) {
	g := map[string]Node{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !IsObjectID(f[0]) {
			return nil, fmt.Errorf("git rev-list: unexpected line %q", line)
		}
		at, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("git rev-list: bad committer time in %q", line)
		}
		for _, p := range f[2:] {
			if !IsObjectID(p) {
				return nil, fmt.Errorf("git rev-list: bad parent in %q", line)
			}
		}
		g[f[0]] = Node{Parents: f[2:], Time: at}
	}
	return g, nil
}

// MergeBaseIn finds the merge base of commits a and b in a window of the
// graph, as git does (painting down from both in committer-time order).
// ok is false where the window cannot tell, so that the caller asks git:
// the walk left the window, or there is more than one candidate (a
// criss-cross merge). A walk that ends inside the window without a base
// means unrelated histories.
func MergeBaseIn(g map[string]Node, a, b string) (bases []string, ok bool) {
	const (
		fromA = 1 << iota
		fromB
		stale
		found
	)
	if _, ok := g[a]; !ok {
		return nil, false
	}
	if _, ok := g[b]; !ok {
		return nil, false
	}
	if a == b {
		return []string{a}, true
	}
	flags := map[string]uint8{a: fromA, b: fromB}
	q := &byTime{g: g, ids: []string{a, b}}
	heap.Init(q)
	for q.nonStale(flags, stale) {
		id := heap.Pop(q).(string)
		f := flags[id] & (fromA | fromB | stale)
		if f == fromA|fromB {
			if flags[id]&found == 0 {
				flags[id] |= found
				bases = append(bases, id)
			}
			f |= stale
		}
		for _, p := range g[id].Parents {
			if flags[p]&f == f {
				continue
			}
			if _, ok := g[p]; !ok {
				return nil, false // beyond the window
			}
			flags[p] |= f
			heap.Push(q, p)
		}
	}
	return bases, len(bases) <= 1
}

// byTime is a max-heap of commits by committer time (then id, so that
// the walk is the same every time).
type byTime struct {
	g   map[string]Node
	ids []string
}

func (q *byTime) Len() int { return len(q.ids) }
func (q *byTime) Less(i, j int) bool {
	a, b := q.g[q.ids[i]].Time, q.g[q.ids[j]].Time
	return a > b || a == b && q.ids[i] > q.ids[j]
}
func (q *byTime) Swap(i, j int) { q.ids[i], q.ids[j] = q.ids[j], q.ids[i] }
func (q *byTime) Push(x any)    { q.ids = append(q.ids, x.(string)) }
func (q *byTime) Pop() any {
	x := q.ids[len(q.ids)-1]
	q.ids = q.ids[:len(q.ids)-1]
	return x
}

// nonStale reports whether a commit in the queue is still worth walking.
func (q *byTime) nonStale(flags map[string]uint8, stale uint8) bool {
	for _, id := range q.ids {
		if flags[id]&stale == 0 {
			return true
		}
	}
	return false
}
