package git

import (
	"bufio"
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
	Committer string // e-mail
	Time      time.Time
	Subject   string
	Council   []string // the values of its Council: trailers
	Paths     []string // filled by Log
	Deleted   []string // those of Paths that it deletes (from every parent, for a merge)
}

// ErrShallow means the history needed is not in this (shallow) clone.
var ErrShallow = errors.New("shallow clone: the history to judge is not all here; fetch more of it, e.g. git fetch --unshallow")

// revListFormat prints one line per commit: id, parents, committer e-mail,
// committer time, Council: trailer values, subject, separated by NUL (none
// of them can hold one).
const revListFormat = "--format=%H%x00%P%x00%ce%x00%ct%x00%(trailers:key=Council,valueonly,separator=%x2C)%x00%s"

// RevList lists the commits that revs select, parents before children.
// revs must be object ids or options oxygen built, never user text.
func (r Runner) RevList(revs ...string) ([]Commit, error) {
	args := append([]string{"rev-list",
		"--reverse", "--topo-order", // parents first
		"--no-commit-header", // only the formatted line
		revListFormat,
	}, revs...)
	out, err := r.Run(nil, args...)
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
		c, err := parseHeader(strings.SplitN(line, "\x00", 6))
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// parseHeader reads a commit's six fields: id, parents, committer e-mail,
// committer time, Council: trailer values, subject.
func parseHeader(f []string) (Commit, error) {
	if len(f) != 6 || !IsObjectID(f[0]) {
		return Commit{}, fmt.Errorf("git: unexpected commit header %q", strings.Join(f, " "))
	}
	secs, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Commit{}, fmt.Errorf("git: bad committer time %q of %s", f[3], f[0])
	}
	c := Commit{ID: f[0], Parents: strings.Fields(f[1]), Committer: f[2], Time: time.Unix(secs, 0).UTC(), Council: SplitList(f[4]), Subject: f[5]}
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
// committer e-mail, committer time, Council: trailer values and subject, all
// NUL-separated (none of them can hold one).
const logFormat = "--format=%x00%H%x00%P%x00%ce%x00%ct%x00%(trailers:key=Council,valueonly,separator=%x2C)%x00%s"

// Log lists the commits revs select, parents before children, each with
// every path it changes against its first parent (all its paths for a root
// commit), and for a merge only the paths that differ from every parent, so
// that a merge answers for what it changes itself, not for what it brings
// in. One git process for the whole range. revs must be object ids or
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
		"--reverse", "--topo-order", // parents first
		"-z",            // NUL-terminated, unquoted paths
		"-c",            // merges: paths that differ from every parent
		"--name-status", // a status record before each path, so no path reads as a header
		"--no-renames",  // both sides of a rename
		"--no-relative", // full paths whatever diff.relative says
		"--no-ext-diff", // never a user's diff driver
		"--no-color",
		"--ignore-submodules=none", // submodule pointer changes count
		logFormat,
	}, revs...)
	out, err := r.Run(stdin, args...)
	if err != nil {
		return nil, err
	}
	return ParseLog(out)
}

// ParseLog reads Log's output: per commit, an empty record and the six
// header fields, then "<status>\0<path>" pairs. git puts a newline before a
// commit's first status, and an empty record before a merge's; a status is
// upper-case letters and an id is hex, so an empty record followed by an id
// can only be the next header.
func ParseLog(out []byte) ([]Commit, error) {
	recs := SplitNUL(out)
	var commits []Commit
	for i := 0; i < len(recs); {
		if recs[i] != "" || i+6 >= len(recs) {
			return nil, fmt.Errorf("git log: unexpected record %q", recs[i])
		}
		c, err := parseHeader(recs[i+1 : i+7])
		if err != nil {
			return nil, err
		}
		for i += 7; i < len(recs); {
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
func (r Runner) ResolveCommit(d Dirs, rev string) (string, error) {
	out, err := r.Run(nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		var gerr *Error
		if errors.As(err, &gerr) {
			if shallow, _ := ShallowCommits(d); len(shallow) > 0 {
				return "", fmt.Errorf("unknown revision %q: %w", rev, ErrShallow)
			}
			return "", fmt.Errorf("unknown revision %q (not a commit here; fetch it, or check the name)", rev)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
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
