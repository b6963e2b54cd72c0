package git

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The coordination state on a remote is a ref whose commits hold small
// trees of files. These are the git commands that move it.

// ErrRefMissing means the remote has no such ref (yet).
var ErrRefMissing = errors.New("no such ref on the remote")

// ErrRewritten means a ref moved to a commit that does not descend from the
// one seen before: its history was rewritten.
var ErrRewritten = errors.New("rewritten")

// ErrLostRace means a compare-and-swap push found the ref moved.
var ErrLostRace = errors.New("the ref moved since it was read")

// MovedMeanwhile is how oxygen's pre-receive refuses a state update whose
// ref moved since the pusher read it: the pusher takes it for a lost race.
const MovedMeanwhile = "the state ref moved while this push was on its way: another clone's act landed first"

// RefID returns what a local ref points at, or "" if it does not exist.
func (r Runner) RefID(ref string) (string, error) {
	out, err := r.Run(nil, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		var gerr *Error
		if errors.As(err, &gerr) && gerr.Code == 1 {
			return "", nil
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// FetchRef fetches the remote's ref into the local tracking ref, but only as
// a fast-forward: a rewritten remote ref is ErrRewritten, not taken.
func (r Runner) FetchRef(remote, ref, tracking string) error {
	_, err := r.Run(nil, "fetch", // not --quiet: it hides the line that says "non-fast-forward"
		"--no-tags",               // only this ref
		"--no-write-fetch-head",   // leave FETCH_HEAD to the user
		"--no-recurse-submodules", // nothing else
		"--no-auto-gc",            // not on the commit path
		"--end-of-options", remote,
		ref+":"+tracking, // no "+": a non-fast-forward update is refused
	)
	var gerr *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "couldn't find remote ref"):
		return ErrRefMissing
	case errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "non-fast-forward"):
		return ErrRewritten
	case errors.As(err, &gerr):
		return fmt.Errorf("cannot fetch %s from %s: %s", ref, remote, firstLine(gerr.Stderr))
	}
	return err
}

// PushCAS sets the remote's ref to commit if it still points at old ("":
// if it does not exist yet), through the user's own git, credentials and
// all. A ref that moved meanwhile is ErrLostRace.
func (r Runner) PushCAS(remote, ref, old, commit string) error {
	out, err := r.Run(nil, "push",
		"--porcelain",                     // one parseable line per ref
		"--no-verify",                     // the state is oxygen's own: no pre-push hooks
		"--force-with-lease="+ref+":"+old, // compare-and-swap; empty old: must not exist
		"--end-of-options", remote,
		commit+":"+ref,
	)
	if err == nil {
		return nil
	}
	var gerr *Error
	if !errors.As(err, &gerr) {
		return err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "!") {
			continue
		}
		// The ref moved: seen by the client (stale info), or by the server
		// in its ref transaction when two pushes land together.
		for _, race := range []string{"stale info", "fetch first", "non-fast-forward", "already exists", "failed to update ref", "pre-receive hook declined"} {
			if strings.Contains(line, race) && (race != "pre-receive hook declined" || strings.Contains(gerr.Stderr, MovedMeanwhile)) {
				return fmt.Errorf("%w (%s)", ErrLostRace, strings.TrimSpace(line[strings.LastIndexByte(line, '\t')+1:]))
			}
		}
		return fmt.Errorf("the remote refused the state update: %s %s", strings.TrimSpace(line), firstLine(gerr.Stderr))
	}
	return fmt.Errorf("cannot push %s to %s: %s", ref, remote, firstLine(gerr.Stderr))
}

// ActsRefs is where clones push acts for a remote's oxygen to decide (its
// proc-receive hook): refs/oxygen/acts/<kind>. No such ref is ever made.
const ActsRefs = "refs/oxygen/acts"

// PushAct sends an act to the remote's oxygen: a push of src (a commit the
// remote has: nothing is sent but the act) to ActsRefs/kind, with the act
// as a push option. It returns what git printed on standard error, where
// the remote's answer is, whether or not the push succeeded.
func (r Runner) PushAct(remote, src, kind, act string) ([]byte, error) {
	_, stderr, err := r.run(nil, "push",
		"--porcelain",
		"--no-verify", // the act is oxygen's own: no pre-push hooks
		"--push-option="+act,
		"--end-of-options", remote,
		src+":"+ActsRefs+"/"+kind,
	)
	return stderr, err
}

// DeleteRemoteRef deletes ref on the remote, hooks of the clone unasked.
func (r Runner) DeleteRemoteRef(remote, ref string) error {
	_, err := r.Run(nil, "push", "--porcelain", "--no-verify", "--end-of-options", remote, ":"+ref)
	return err
}

// PackAuto lets git pack the loose objects that state commits and fetches
// leave, once there are a few hundred of them (git gc --auto, in the
// background unless the user turned gc.autoDetach off): each act writes a
// handful, and a clone must not hoard them by the ten thousand. It runs
// whatever the user's gc.auto says, oxygen's objects being oxygen's
// business; gc.auto's default of 6,700 would let them grow past 100 MB.
func (r Runner) PackAuto() error {
	_, err := r.Run(nil, "-c", "gc.auto=256", "gc", "--auto", "--quiet")
	return err
}

// UpdateRef points a local ref at commit.
func (r Runner) UpdateRef(ref, commit string) error {
	_, err := r.Run(nil, "update-ref", "-m", "oxygen", "--end-of-options", ref, commit)
	return err
}

// IsAncestor reports whether a is an ancestor of (or equal to) b.
func (r Runner) IsAncestor(a, b string) (bool, error) {
	_, err := r.Run(nil, "merge-base", "--is-ancestor", a, b)
	var gerr *Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &gerr) && gerr.Code == 1:
		return false, nil
	}
	return false, err
}

// ReadTree returns every file of commit's tree, by path.
func (r Runner) ReadTree(commit string) (map[string][]byte, error) {
	files, _, err := r.ReadTreeSkip(commit, nil)
	return files, err
}

// TreeEntry is a file of a tree: its mode, blob and size (-1 where
// ReadTrees did not read the blob).
type TreeEntry struct {
	Mode string
	OID  string
	Size int64
}

// ReadTreeSkip returns the files of commit's tree, by path, but for those
// skip names, which it does not read; and every file's entry. A tree that
// names one path twice, or holds an empty folder, is refused: git tools
// read the first of two entries and oxygen the last, so the state would
// say one thing to a person and another to the gates; and an empty folder
// is seen by no listing of files, its name carrying bytes that nothing
// checks, kept in the history every clone fetches.
func (r Runner) ReadTreeSkip(commit string, skip func(path string) bool) (map[string][]byte, map[string]TreeEntry, error) {
	out, err := r.Run(nil, "ls-tree", "-r", "-t", "-z", "-l", "--full-tree", commit)
	if err != nil {
		return nil, nil, err
	}
	entries, err := parseTreeListing(commit, out)
	if err != nil {
		return nil, nil, err
	}
	var paths, specs []string
	for path, e := range entries {
		if skip == nil || !skip(path) {
			paths, specs = append(paths, path), append(specs, e.OID)
		}
	}
	files := make(map[string][]byte, len(paths))
	if len(specs) == 0 {
		return files, entries, nil
	}
	blobs, err := r.ReadBlobs(specs...)
	if err != nil {
		return nil, nil, err
	}
	for i, b := range blobs {
		files[paths[i]] = b.Data
	}
	return files, entries, nil
}

// Tree is what ReadTrees read of one commit's tree.
type Tree struct {
	Files   map[string][]byte    // by path, but for those skipped
	Entries map[string]TreeEntry // every file's
}

// ReadRefTree is ReadTreeSkip of the commit a local ref points at, with
// that commit's id, in the two processes that read the tree rather than a
// third to resolve the ref first: ls-tree lists the ref by name, and the
// cat-file that reads the files is asked for the commit first. Each of
// them resolves the ref, so it must not move meanwhile: this is for the
// git store's tracking ref, which moves only under the clone's lock. The
// server's state ref, which pushes move at any time, is read by id.
func (r Runner) ReadRefTree(ref string, skip func(path string) bool) (string, map[string][]byte, map[string]TreeEntry, error) {
	rev := ref + "^{commit}" // as RefID peels it
	out, err := r.Run(nil, "ls-tree", "-r", "-t", "-z", "-l", "--full-tree", "--end-of-options", rev)
	if err != nil {
		return "", nil, nil, err
	}
	entries, err := parseTreeListing(rev, out)
	if err != nil {
		// Refused: worth a process more to name the commit, as
		// ReadTreeSkip does.
		tip, rerr := r.RefID(ref)
		if rerr != nil || tip == "" {
			return "", nil, nil, errors.Join(err, rerr)
		}
		_, err = parseTreeListing(tip, out)
		return tip, nil, nil, err
	}
	var paths []string
	specs := []string{rev}
	for path, e := range entries {
		if skip == nil || !skip(path) {
			paths, specs = append(paths, path), append(specs, e.OID)
		}
	}
	blobs, err := r.ReadBlobs(specs...)
	if err != nil {
		return "", nil, nil, err
	}
	tip := blobs[0].ID
	if !IsObjectID(tip) {
		return "", nil, nil, fmt.Errorf("git cat-file --batch: %s does not name a commit", ref)
	}
	files := make(map[string][]byte, len(paths))
	for i, b := range blobs[1:] {
		files[paths[i]] = b.Data
	}
	return tip, files, entries, nil
}

// treeRefusal says why the tree of commit is refused: what is wrong with
// path. Both readers of trees (ReadTreeSkip, ReadTrees) say it so.
func treeRefusal(commit, path, what string) error {
	return fmt.Errorf("%s: %s %s", shortOID(commit), path, what)
}

// parseTreeListing reads `git ls-tree -r -t -z -l` of commit into its
// files' entries, refusing what ReadTreeSkip refuses.
func parseTreeListing(commit string, out []byte) (map[string]TreeEntry, error) {
	entries := map[string]TreeEntry{}
	seen, folder := map[string]bool{}, "" // folder: the last tree listed, until a path inside it comes
	for _, rec := range SplitNUL(out) {
		meta, path, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("git ls-tree: unexpected record %q", rec)
		}
		if seen[path] {
			return nil, treeRefusal(commit, path, "appears twice in the tree")
		}
		seen[path] = true
		if folder != "" && !strings.HasPrefix(path, folder+"/") {
			return nil, treeRefusal(commit, folder, "is an empty folder")
		}
		folder = ""
		if f[1] == "tree" {
			folder = path // -t lists a tree before what it holds
			continue
		}
		if f[1] != "blob" || !IsObjectID(f[2]) {
			return nil, treeRefusal(commit, path, "is a "+f[1]+", not a file")
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("git ls-tree: unexpected record %q", rec)
		}
		entries[path] = TreeEntry{Mode: f[0], OID: f[2], Size: size}
	}
	if folder != "" {
		return nil, treeRefusal(commit, folder, "is an empty folder")
	}
	return entries, nil
}

// StateCommit is a commit to write on the state ref.
type StateCommit struct {
	Parent  string            // "" for the first
	Put     map[string][]byte // files to write, by path
	Delete  []string          // files to remove
	Message string
	By      string // the e-mail the commit is recorded under
	At      time.Time
	// Ref, if set, is moved to the commit, but only as a fast-forward of
	// what it holds (fast-import's own check, in the ref's transaction):
	// where something else moved it since Parent was read, nothing moves
	// and WriteCommit fails. Unset, the commit moves no ref but a scratch
	// ref that WriteCommit owns.
	Ref string
}

// WriteCommit writes the commit (its blobs, trees and itself) into the
// repository with one `git fast-import` and returns its id.
func (r Runner) WriteCommit(gitDir string, c StateCommit) (string, error) {
	ref, args := c.Ref, []string{"fast-import", "--quiet", "--done"}
	if ref == "" {
		ref, args = "refs/oxygen/scratch", append(args, "--force")
	}
	marks := filepath.Join(gitDir, fmt.Sprintf("oxygen-marks-%d", os.Getpid()))
	defer os.Remove(marks)
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit %s\nmark :1\ncommitter oxygen <%s> %d +0000\n", ref, sanitizeIdent(c.By), c.At.Unix())
	data(&in, []byte(c.Message))
	if c.Parent != "" {
		fmt.Fprintf(&in, "from %s\n", c.Parent)
	}
	for _, p := range c.Delete {
		if !plainPath(p) {
			return "", fmt.Errorf("state path %q is not plain", p)
		}
		fmt.Fprintf(&in, "D %s\n", p)
	}
	for _, p := range slices.Sorted(maps.Keys(c.Put)) {
		if !plainPath(p) {
			return "", fmt.Errorf("state path %q is not plain", p)
		}
		fmt.Fprintf(&in, "M 100644 inline %s\n", p)
		data(&in, c.Put[p])
	}
	in.WriteString("done\n")
	if _, err := r.Run(&in, append(args, "--export-marks="+marks)...); err != nil {
		return "", err
	}
	out, err := os.ReadFile(marks)
	if err != nil {
		return "", fmt.Errorf("git fast-import: %w", err)
	}
	_, id, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || !IsObjectID(id) {
		return "", fmt.Errorf("git fast-import: unexpected marks %q", out)
	}
	return id, nil
}

func data(b *bytes.Buffer, d []byte) {
	fmt.Fprintf(b, "data %d\n", len(d))
	b.Write(d)
	b.WriteByte('\n')
}

// plainPath: the state's own paths need no quoting in a fast-import stream.
func plainPath(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

func sanitizeIdent(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '<' || r == '>' || r == '\n' || r == 0 {
			return '_'
		}
		return r
	}, s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimPrefix(s, "fatal: ")
}

func shortOID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ConfigValues returns every value of a (multi-valued) config key, in the
// repository's and the user's and the system's config; none where unset.
func (r Runner) ConfigValues(key string) ([]string, error) {
	out, err := r.Run(nil, "config", "--null", "--get-all", "--end-of-options", key)
	var gerr *Error
	if errors.As(err, &gerr) && gerr.Code == 1 {
		return nil, nil // unset
	}
	if err != nil {
		return nil, err
	}
	return SplitNUL(out), nil
}

// ConfigAdd adds value to key in the repository's own config.
func (r Runner) ConfigAdd(key, value string) error {
	_, err := r.Run(nil, "config", "--local", "--add", "--end-of-options", key, value)
	return err
}

// ConfigUnset removes value from key in the repository's own config,
// where it is there.
func (r Runner) ConfigUnset(key, value string) error {
	_, err := r.Run(nil, "config", "--local", "--fixed-value", "--unset-all", "--end-of-options", key, value)
	var gerr *Error
	if errors.As(err, &gerr) && gerr.Code == 5 {
		return nil // not there
	}
	return err
}
