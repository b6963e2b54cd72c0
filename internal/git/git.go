// Package git runs the user's git binary and parses what it prints. Every
// command oxygen runs is named here, with its output pinned by flags.
package git

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SkipEnv is the switch that makes oxygen's hook shims do nothing. oxygen
// sets it for every git command it runs, so it never re-enters its own hooks.
const SkipEnv = "OXYGEN"

// Runner runs git in one directory.
type Runner struct {
	Dir   string   // where git runs; "" for the current directory
	Env   []string // extra environment, after the inherited one
	Unset []string // inherited variables to leave out
	// Exec, if set, runs each git command in place of cmd.Run: the one
	// seam through which a test counts oxygen's git processes or fakes git.
	Exec func(cmd *exec.Cmd) error
}

// exec runs cmd, a git command built by this runner.
func (r Runner) exec(cmd *exec.Cmd) error {
	if r.Exec != nil {
		return r.Exec(cmd)
	}
	return cmd.Run()
}

// Error is a git command that failed.
type Error struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *Error) Error() string {
	msg := firstLine(e.Stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Code)
	}
	return fmt.Sprintf("git%s: %s", subcommand(e.Args), msg)
}

// subcommand is " <subcommand>" of args, not the whole argv: its pinned
// flags (or a push's thousands of object ids) say nothing to a reader.
func subcommand(args []string) string {
	for len(args) >= 2 && args[0] == "-c" {
		args = args[2:] // config overrides, not the subcommand
	}
	if len(args) > 0 {
		return " " + args[0]
	}
	return ""
}

// ErrNoGit means there is no git binary on PATH.
var ErrNoGit = errors.New("git is not installed or not on PATH")

// Run runs git with args, feeding it stdin, and returns what it printed.
func (r Runner) Run(stdin io.Reader, args ...string) ([]byte, error) {
	stdout, _, err := r.run(stdin, args...)
	return stdout, err
}

// run is Run, with what git printed on standard error too.
func (r Runner) run(stdin io.Reader, args ...string) ([]byte, []byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.environ()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := r.exec(cmd); err != nil {
		return stdout.Bytes(), stderr.Bytes(), runError(args, err, &stderr)
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// buffered is r for a git whose output is read only once it ends: log,
// rev-list and diff-tree otherwise write into a pipe a record at a time,
// and each write wakes the reader; at 1,000 commits that was a tenth of a
// range check's time (GIT_FLUSH=0 holds them to whole buffers).
func (r Runner) buffered() Runner {
	r.Env = append(slices.Clip(r.Env), "GIT_FLUSH=0")
	return r
}

// runError is what a git command that did not succeed returns.
func runError(args []string, err error, stderr *bytes.Buffer) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &Error{Args: args, Code: exit.ExitCode(), Stderr: stderr.String()}
	}
	if errors.Is(err, exec.ErrNotFound) {
		return ErrNoGit
	}
	return fmt.Errorf("git%s: %w", subcommand(args), err)
}

// pinnedEnv comes last in every git command's environment, so neither the
// caller's environment nor the repository can change what oxygen judges.
var pinnedEnv = []string{
	SkipEnv + "=0", // never re-enter oxygen's own hooks
	// Objects as they are: a refs/replace/* ref or an info/grafts file
	// would make git show a benign stand-in for the commit being judged.
	// (core.useReplaceRefs=true in a config file would beat the first:
	// environ sets it false as a command-line setting, which beats files.)
	"GIT_NO_REPLACE_OBJECTS=1",
	"GIT_GRAFT_FILE=" + noGrafts,
}

// noGrafts can never exist (nothing lives below /dev/null), so git reads no
// grafts, and says nothing about them either.
const noGrafts = "/dev/null/oxygen-no-grafts"

// environ is the environment of a git command: the inherited one without
// Unset, then Env, then the pinned variables.
func (r Runner) environ() []string {
	env := os.Environ()
	out := make([]string, 0, len(env)+len(r.Env)+len(pinnedEnv))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(r.Unset, name) {
			out = append(out, kv)
		}
	}
	out = append(append(out, r.Env...), pinnedEnv...)
	// After the caller's own `git -c` settings, which git passes on here
	// and reads after GIT_CONFIG_COUNT's: the last word is oxygen's.
	params := "'core.usereplacerefs=false'"
	for _, kv := range out {
		if v, ok := strings.CutPrefix(kv, "GIT_CONFIG_PARAMETERS="); ok && v != "" {
			params = v + " 'core.usereplacerefs=false'"
		}
	}
	return append(out, "GIT_CONFIG_PARAMETERS="+params)
}

// Dirs are the places git keeps a repository's files.
type Dirs struct {
	GitDir    string // this worktree's git dir
	CommonDir string // shared by every worktree of the clone
	Hooks     string // where git looks for hooks (honours core.hooksPath)
	Bare      bool
	// ObjectFormat is the hash its object ids are of: sha1 or sha256.
	ObjectFormat string
}

// Dirs asks git where the repository keeps its files, as absolute paths.
func (r Runner) Dirs() (Dirs, error) {
	d, _, err := r.DirsWith()
	return d, err
}

// DirsWith is Dirs, and resolves specs (like HEAD:resources.yaml) to object
// ids in the same git process; a spec that does not resolve gives "", and
// git stops there: ids has an answer only for the specs up to that one.
func (r Runner) DirsWith(specs ...string) (Dirs, []string, error) {
	const fixed = 5 // the lines every answer starts with
	args := append([]string{"rev-parse",
		"--path-format=absolute", // every path below absolute, whatever the cwd
		"--git-dir",
		"--git-common-dir",
		"--git-path", "hooks", // core.hooksPath if set, resolved per worktree
		"--is-bare-repository",
		"--show-object-format",
	}, specs...) // specs are oxygen's own (git 2.39's rev-parse echoes --end-of-options)
	out, err := r.Run(nil, args...)
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < fixed+min(1, len(specs)) || len(lines) > fixed+len(specs) || len(lines) < fixed+len(specs) && err == nil {
		if err == nil {
			err = fmt.Errorf("git rev-parse: unexpected output %q", out)
		}
		return Dirs{}, nil, notARepo(err)
	}
	ids := make([]string, 0, len(specs))
	for i, line := range lines[fixed:] {
		switch {
		case line != specs[i] && IsObjectID(line):
			ids = append(ids, line)
		case err != nil && fixed+i == len(lines)-1:
			ids = append(ids, "") // git echoes a spec it cannot resolve, and stops there
		default:
			return Dirs{}, nil, fmt.Errorf("git rev-parse: unexpected output %q", out)
		}
	}
	return Dirs{GitDir: lines[0], CommonDir: lines[1], Hooks: lines[2], Bare: lines[3] == "true", ObjectFormat: lines[4]}, ids, nil
}

// EmptyTree is the id of the tree that holds nothing, which every
// repository has without storing it, in the object format given (as
// Dirs.ObjectFormat names it).
func EmptyTree(format string) string {
	if format == "sha256" {
		return "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
	}
	return "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
}

func notARepo(err error) error {
	var gerr *Error
	if errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "not a git repository") {
		return errors.New("not in a git repository (run oxygen inside a clone, or pass --repo DIR)")
	}
	return err
}

// CommitterEmail is the committer's e-mail as git resolves it for a commit
// made now: GIT_COMMITTER_EMAIL, then user.email and the other fallbacks.
// git takes GIT_COMMITTER_EMAIL before any configuration, so where it is
// set (as a fleet's agents set it) and git would record it as it is, it
// is the answer without a git process: on the commit path, one fewer.
func (r Runner) CommitterEmail() (string, error) {
	if v, ok := r.lookupEnv("GIT_COMMITTER_EMAIL"); ok && TakenAsIs(v) {
		return v, nil
	}
	out, err := r.Run(nil, "var", "GIT_COMMITTER_IDENT")
	if err != nil {
		var gerr *Error
		if errors.As(err, &gerr) {
			return "", fmt.Errorf("git has no committer identity: set one with git config user.email you@example.com (%s)", strings.TrimSpace(gerr.Stderr))
		}
		return "", err
	}
	email, ok := ParseIdentEmail(string(out))
	if !ok {
		return "", fmt.Errorf("git var GIT_COMMITTER_IDENT: cannot read an e-mail in %q", strings.TrimSpace(string(out)))
	}
	return email, nil
}

// TakenAsIs reports whether git records the e-mail address v unchanged
// in an identity. git drops "crud" from both ends of it (crud), and the
// delimiters '<', '>' and newline from within; an empty one it records
// empty, which names no one.
func TakenAsIs(v string) bool {
	if v == "" || crud(v[0]) || crud(v[len(v)-1]) {
		return false
	}
	return !strings.ContainsAny(v, "<>\n")
}

// crud is what git strips from the ends of a name or an e-mail address:
// control bytes, spaces and .,:;<>"\'. Newer gits keep a '.' there; an
// address that ends in one is asked of git, which is right for either.
func crud(c byte) bool {
	return c <= ' ' || strings.IndexByte(".,:;<>\"\\'", c) >= 0
}

// lookupEnv is the value of the variable name in the environment the
// runner gives git (environ): its own Env's last, else the inherited one
// unless Unset leaves it out.
func (r Runner) lookupEnv(name string) (string, bool) {
	for _, kv := range slices.Backward(r.Env) {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	if slices.Contains(r.Unset, name) {
		return "", false
	}
	return os.LookupEnv(name)
}

// ParseIdentEmail takes the address out of "Name <email> 1700000000 +0000".
func ParseIdentEmail(ident string) (string, bool) {
	open := strings.IndexByte(ident, '<')
	end := strings.LastIndexByte(ident, '>')
	if open < 0 || end < open {
		return "", false
	}
	return ident[open+1 : end], true
}

// StagedPaths lists every path whose staged content differs from HEAD (from
// the empty tree on an unborn branch), or from rev if it is given. git
// honours GIT_INDEX_FILE, which points at a temporary index during
// `commit -a` and partial commits.
func (r Runner) StagedPaths(rev string) ([]string, error) {
	if rev != "" {
		return r.diffPaths("--cached", rev, "--") // the index against a commit, not the worktree
	}
	return r.diffPaths("--cached")
}

// StagedPathsOf is StagedPaths("") for the index file at index, as git
// names it to the commit hooks in GIT_INDEX_FILE: where the index's cache
// of its trees is whole (IndexTree), git diffs HEAD's tree against that
// tree and reads no index, which is most of what diff --cached costs in a
// large repository; else the index is read in place and compared with
// HEAD's trees only where its cache does not say they are the same
// (StagedFromIndex); where neither can (an unborn branch, an index of a
// shape it does not take), git diff --cached answers. A relative index is
// taken from the runner's directory.
func (r Runner) StagedPathsOf(index string) ([]string, error) {
	if !filepath.IsAbs(index) {
		index = filepath.Join(r.Dir, index)
	}
	if tree := ReadIndexTree(index); tree != "" {
		if paths, err := r.diffPaths("HEAD", tree, "--"); err == nil {
			return paths, nil
		}
	}
	if paths, ok, err := r.StagedFromIndex(index); ok || err != nil {
		return paths, err
	}
	return r.StagedPaths("")
}

// diffPaths runs git diff with args and lists the paths it names.
func (r Runner) diffPaths(args ...string) ([]string, error) {
	args = append([]string{"diff",
		"-z",                       // NUL-terminated, unquoted paths
		"--name-only",              // paths only
		"--no-renames",             // a rename is its deletion and its addition
		"--no-ext-diff",            // never run a user's diff driver
		"--no-color",               // whatever color.ui says
		"--no-relative",            // full paths whatever diff.relative says
		"--ignore-submodules=none", // submodule pointer changes count
	}, args...)
	out, err := r.Run(nil, args...)
	if err != nil {
		return nil, err
	}
	return SplitNUL(out), nil
}

// SplitNUL splits NUL-terminated records, dropping the empty tail.
func SplitNUL(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}

// Blob is one object read by ReadBlobs.
type Blob struct {
	Spec    string // what was asked for, like HEAD:resources.yaml
	ID      string // the object's id; "" if the name does not resolve
	Missing bool   // no such blob: the name does not resolve, or not to a blob
	Data    []byte
}

// ReadBlobs reads objects by name ("HEAD:resources.yaml", ":resources.yaml")
// in one git process. A name that does not resolve comes back Missing.
func (r Runner) ReadBlobs(specs ...string) ([]Blob, error) {
	in, err := batchInput(specs)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(in, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	return ParseBatch(bytes.NewReader(out), specs)
}

// batchInput is cat-file's standard input: one object name a line.
func batchInput(specs []string) (*bytes.Buffer, error) {
	var in bytes.Buffer
	for _, s := range specs {
		if err := objectName(s); err != nil {
			return nil, err
		}
		in.WriteString(s + "\n")
	}
	return &in, nil
}

// ErrObjectName is an object name that cannot be a line of cat-file's
// input: a line break would make it two names, and git ends a name at a
// NUL, so it would ask for another object.
var ErrObjectName = errors.New("an object name holds a line break or a NUL")

// objectName refuses a name that cannot be a line of cat-file's input.
func objectName(s string) error {
	if strings.ContainsAny(s, "\n\x00") {
		return fmt.Errorf("%w: %q", ErrObjectName, s)
	}
	return nil
}

// maxObject is the most of one object cat-file is read for: a state's
// files are small, and a policy far smaller.
const maxObject = 1 << 26

// tooBig is an object larger than maxObject.
type tooBig struct {
	name string
	size uint64
}

func (e *tooBig) Error() string {
	return fmt.Sprintf("git cat-file --batch: %s is %d bytes, more than the %d oxygen reads of one object", e.name, e.size, uint64(maxObject))
}

// ParseBatch reads `git cat-file --batch` output for the given names:
// "<oid> <type> <size>\n<content>\n" or "<name> missing\n" for each.
func ParseBatch(rd io.Reader, specs []string) ([]Blob, error) { return parseBatch(rd, specs, "blob") }

// parseBatch is ParseBatch keeping the content of objects of type typ:
// any other comes back Missing, with its id.
func parseBatch(rd io.Reader, specs []string, typ string) ([]Blob, error) {
	br := bufio.NewReader(rd)
	blobs := make([]Blob, 0, len(specs))
	for _, spec := range specs {
		o, err := readObject(br, spec)
		switch {
		case err != nil:
			return nil, err
		case o.typ != typ:
			blobs = append(blobs, Blob{Spec: spec, ID: o.id, Missing: true})
		default:
			blobs = append(blobs, Blob{Spec: spec, ID: o.id, Data: o.data})
		}
	}
	return blobs, nil
}

// object is one answer of `git cat-file --batch`: type "" where the name
// does not resolve.
type object struct {
	id, typ string
	data    []byte
}

// readObject reads cat-file --batch's answer for name: "<oid> <type>
// <size>\n<content>\n", or "<name> missing\n".
func readObject(br *bufio.Reader, name string) (object, error) {
	header, err := br.ReadString('\n')
	if err != nil {
		return object{}, fmt.Errorf("git cat-file --batch: truncated output for %s", name)
	}
	header = strings.TrimSuffix(header, "\n")
	if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
		return object{}, nil
	}
	// Exactly "<oid> <type> <size>", the size in plain decimal: Sscanf
	// would take "3x", "+3" or "0x3" (as 0) and read the wrong bytes.
	fields := strings.Split(header, " ")
	var size uint64 = 1<<64 - 1
	if len(fields) == 3 {
		size, err = strconv.ParseUint(fields[2], 10, 64)
	}
	if len(fields) != 3 || err != nil || !IsObjectID(fields[0]) || fields[1] == "" {
		return object{}, fmt.Errorf("git cat-file --batch: bad header %q for %s", header, name)
	}
	if size > maxObject {
		return object{}, &tooBig{name: name, size: size}
	}
	data := make([]byte, size+1)
	if _, err := io.ReadFull(br, data); err != nil {
		return object{}, fmt.Errorf("git cat-file --batch: truncated object %s", name)
	}
	if data[size] != '\n' {
		return object{}, fmt.Errorf("git cat-file --batch: object %s is not %d bytes long as its header says", name, size)
	}
	return object{id: fields[0], typ: fields[1], data: data[:size]}, nil
}

// MergeHeads returns the commits being merged in (the MERGE_HEAD file of a
// merge in progress), or none.
func MergeHeads(d Dirs) ([]string, error) {
	data, err := os.ReadFile(d.GitDir + "/MERGE_HEAD")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseMergeHeads(data)
}

// ParseMergeHeads reads one object id per line (40 or 64 hex digits).
func ParseMergeHeads(data []byte) ([]string, error) {
	var ids []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !IsObjectID(line) {
			return nil, fmt.Errorf("MERGE_HEAD: %q is not an object id", line)
		}
		ids = append(ids, line)
	}
	return ids, nil
}

// IsObjectID reports whether s is a full SHA-1 or SHA-256 object id.
func IsObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Prefix is the current directory's path within the worktree ("" at its
// root), as "dir/" with a trailing slash.
func (r Runner) Prefix() (string, error) {
	out, err := r.Run(nil, "rev-parse", "--show-prefix")
	if err != nil {
		return "", notARepo(err)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// ForRepo returns a runner for another repository. git's exported
// repository variables (GIT_DIR, GIT_INDEX_FILE, ...: `git rev-parse
// --local-env-vars`), set when oxygen runs inside a hook, would otherwise
// point the command back at the repository that ran the hook.
func (r Runner) ForRepo(dir string) (Runner, error) {
	out, err := r.Run(nil, "rev-parse", "--local-env-vars")
	if err != nil {
		return Runner{}, err
	}
	return Runner{Dir: dir, Env: r.Env, Unset: strings.Fields(string(out)), Exec: r.Exec}, nil
}

// PendingMergeHeads names the commits an automatic `git merge` is merging in
// while it runs the pre-merge-commit hook: git writes MERGE_HEAD only after
// that hook, but it exports what it merges in GIT_REFLOG_ACTION ("merge
// NAME..."); `git pull` merges the FETCH_HEAD lines not marked
// not-for-merge. ok is false where neither says.
func (r Runner) PendingMergeHeads(d Dirs, reflogAction string) (heads []string, ok bool, err error) {
	verb, names, _ := strings.Cut(reflogAction, " ")
	switch {
	case verb == "merge" && names != "":
		args := []string{"rev-parse", "--end-of-options"}
		for _, n := range strings.Fields(names) {
			args = append(args, n+"^{commit}")
		}
		out, err := r.Run(nil, args...)
		if err != nil {
			return nil, false, nil
		}
		// git 2.39 echoes --end-of-options: only the ids are heads.
		return slices.DeleteFunc(strings.Fields(string(out)), func(s string) bool { return !IsObjectID(s) }), true, nil
	case strings.HasPrefix(verb, "pull"):
		data, err := os.ReadFile(d.GitDir + "/FETCH_HEAD")
		if err != nil {
			return nil, false, nil
		}
		heads = ParseFetchHead(data)
		return heads, len(heads) > 0, nil
	}
	return nil, false, nil
}

// ParseFetchHead returns the ids of FETCH_HEAD's lines that are for merging:
// "<id>\t\t<description>" (a not-for-merge line has that word between the tabs).
func ParseFetchHead(data []byte) []string {
	var ids []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) == 3 && f[1] == "" && IsObjectID(f[0]) {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// TrackedUnder lists the files in the index at or below dir, a path from
// the root.
func (r Runner) TrackedUnder(dir string) ([]string, error) {
	out, err := r.Run(nil, "ls-files",
		"-z",                       // NUL-terminated, unquoted
		"--full-name",              // from the root, wherever git runs
		"--", ":(top,literal)"+dir, // from the root, no glob
	)
	if err != nil {
		return nil, err
	}
	return SplitNUL(out), nil
}

// EachTrackedFile calls fn with every file in the index, as a path from the
// root, as git lists it: nothing holds the whole list, which in a large
// repository costs more than the listing.
func (r Runner) EachTrackedFile(fn func(path string)) error {
	args := []string{"ls-files",
		"-z",          // NUL-terminated, unquoted
		"--full-name", // from the root, wherever git runs
		"--", ":/",    // the whole worktree, not only below the current directory
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.environ()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &nulSplitter{fn: fn}, &stderr
	if err := r.exec(cmd); err != nil {
		return runError(args, err, &stderr)
	}
	return nil
}

// nulSplitter calls fn with each NUL-terminated record written to it, in
// whatever pieces they come, holding no more than one unfinished record.
type nulSplitter struct {
	fn   func(string)
	part []byte
}

func (w *nulSplitter) Write(b []byte) (int, error) {
	n := len(b)
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			w.part = append(w.part, b...)
			return n, nil
		}
		rec := b[:i]
		if len(w.part) > 0 {
			rec = append(w.part, rec...)
			w.part = w.part[:0]
		}
		if len(rec) > 0 {
			w.fn(string(rec))
		}
		b = b[i+1:]
	}
}
