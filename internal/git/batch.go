package git

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// batch is one `git cat-file --batch` asked one object at a time, so that
// what is asked next can follow from what came back (a tree's subtrees and
// files): a walk of several trees, and every blob they hold, in one
// process. (cat-file flushes each answer when not told --buffer.)
type batch struct {
	in   *os.File // git's standard input, this end
	outR *io.PipeReader
	out  *bufio.Reader
	done chan error
}

func (r Runner) startBatch() (*batch, error) {
	args := []string{"cat-file", "--batch"}
	// git's input is an os.Pipe: os/exec would copy an io.Pipe into git
	// with a goroutine that Run waits for, which would wait for the next
	// name for ever if git ended on its own.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("git cat-file --batch: %w", err)
	}
	outR, outW := io.Pipe()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = r.Dir, r.environ()
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, &stderr
	b := &batch{in: inW, outR: outR, out: bufio.NewReader(outR), done: make(chan error, 1)}
	go func() {
		err := r.exec(cmd)
		if err != nil {
			err = runError(args, err, &stderr)
		}
		// Whatever is still asked or awaited fails, rather than waiting
		// for a git that is gone.
		inR.Close()
		outW.CloseWithError(io.ErrUnexpectedEOF)
		b.done <- err
	}()
	return b, nil
}

// get asks for the object that name names.
func (b *batch) get(name string) (object, error) {
	if err := objectName(name); err != nil {
		return object{}, err
	}
	if _, err := io.WriteString(b.in, name+"\n"); err != nil {
		return object{}, fmt.Errorf("git cat-file --batch: %w", err)
	}
	return readObject(b.out, name)
}

// close ends the process and says how it ended.
func (b *batch) close() error {
	b.in.Close()
	// An answer not read to its end (one refused for its size) would keep
	// git writing into a pipe no one reads, and so never ending: what it
	// writes now fails, and git with it.
	b.outR.CloseWithError(io.ErrClosedPipe)
	return <-b.done
}

// ReadTrees reads several commits' trees as ReadTreeSkip reads one, in one
// git process however many trees there are: each tree and file is asked of
// one cat-file as the walk comes to it, and a tree or blob that several
// paths or trees hold is read once. It is what the server's check of a
// push reads (the push's commits and the one before them). It refuses what
// ReadTreeSkip refuses, in the same words, and more: a name git never
// writes (with a slash, "." or ".."), and more entries or longer paths than
// any state holds. Modes are git's canonical ones, as ls-tree lists them.
// A file that skip names is not read: its entry's Size is -1.
func (r Runner) ReadTrees(commits []string, skip func(path string) bool) ([]Tree, error) {
	b, err := r.startBatch()
	if err != nil {
		return nil, err
	}
	trees, err := b.readTrees(commits, skip)
	end := b.close()
	var big *tooBig
	switch {
	case err == nil:
		return trees, end
	case end != nil && !errors.As(err, &big):
		return nil, end // git ended on its own (or never started): its words say why
	}
	return nil, err // what the walk refused; a git cut short for it says nothing more
}

// ReadTip reads the commit that ref points at and its tree, as ReadTrees
// reads one, in one process: the ref is resolved by the cat-file that then
// reads the tree by the id it gave, so the two agree however the ref moves
// meanwhile. A ref that does not exist gives "" and no tree.
func (r Runner) ReadTip(ref string, skip func(path string) bool) (string, Tree, error) {
	b, err := r.startBatch()
	if err != nil {
		return "", Tree{}, err
	}
	tip, tree, err := b.readTip(ref, skip)
	end := b.close()
	var big *tooBig
	switch {
	case err == nil:
		return tip, tree, end
	case end != nil && !errors.As(err, &big):
		return "", Tree{}, end
	}
	return "", Tree{}, err
}

func (b *batch) readTip(ref string, skip func(path string) bool) (string, Tree, error) {
	o, err := b.get(ref + "^{commit}")
	if err != nil || o.id == "" {
		return "", Tree{}, err
	}
	trees, err := b.readTrees([]string{o.id}, skip)
	if err != nil {
		return "", Tree{}, err
	}
	return o.id, trees[0], nil
}

// readTrees is ReadTrees' walk.
func (b *batch) readTrees(commits []string, skip func(path string) bool) ([]Tree, error) {
	var trees []Tree
	read := map[string][]byte{}      // blob id -> its content
	items := map[string][]treeItem{} // tree -> its entries
	budget := maxTreeEntries
	for _, c := range commits {
		t := Tree{Files: map[string][]byte{}, Entries: map[string]TreeEntry{}}
		w := treeWalk{b: b, commit: c, tree: t, skip: skip, read: read, items: items, budget: &budget}
		if err := w.walk(c+"^{tree}", ""); err != nil {
			return nil, err
		}
		trees = append(trees, t)
	}
	return trees, nil
}

// treeWalk reads one commit's tree into tree.
type treeWalk struct {
	b      *batch
	commit string
	tree   Tree
	skip   func(path string) bool
	read   map[string][]byte
	items  map[string][]treeItem
	budget *int // entries, files and folders, the walks may still list
}

// Bounds on what ReadTrees lists: a tree that holds one subtree under two
// names, and that one another twice, and so on, names 2^n paths in n small
// objects; a chain of n folders, n paths whose lengths add up to n^2. No
// state comes near either: its paths are a folder and a file, and it holds
// a few files for each thousand events of its history.
const (
	maxTreeEntries = 1 << 20
	maxTreePath    = 4096
)

// walk reads the tree that name names, whose paths start with prefix.
func (w treeWalk) walk(name, prefix string) error {
	items, ok := w.items[name] // a tree several paths hold is asked once
	if !ok {
		o, err := w.b.get(name)
		if err != nil {
			return err
		}
		if o.typ != "tree" {
			return fmt.Errorf("%s: no tree at %q", shortOID(w.commit), prefix)
		}
		if items, err = parseTree(o.data, len(w.commit)/2); err != nil {
			return fmt.Errorf("%s: %w", shortOID(w.commit), err)
		}
		w.items[name] = items
	}
	if *w.budget -= len(items); *w.budget < 0 {
		return fmt.Errorf("%s: the trees read hold more than %d files and folders: push fewer state commits at once", shortOID(w.commit), maxTreeEntries)
	}
	if len(items) == 0 && prefix != "" {
		return treeRefusal(w.commit, strings.TrimSuffix(prefix, "/"), "is an empty folder")
	}
	seen := map[string]bool{} // names, of files and folders alike
	for _, it := range items {
		path := prefix + it.Name
		if seen[it.Name] {
			return treeRefusal(w.commit, path, "appears twice in the tree")
		}
		seen[it.Name] = true
		if len(path) > maxTreePath {
			return fmt.Errorf("%s: a path is longer than %d bytes (it starts %q)", shortOID(w.commit), maxTreePath, path[:64])
		}
		switch it.Type {
		case "tree":
			if err := w.walk(it.OID, path+"/"); err != nil {
				return err
			}
			continue
		case "blob":
		default:
			return treeRefusal(w.commit, path, "is a "+it.Type+", not a file")
		}
		e := TreeEntry{Mode: it.Mode, OID: it.OID, Size: -1}
		if w.skip == nil || !w.skip(path) {
			data, ok := w.read[it.OID]
			if !ok {
				o, err := w.b.get(it.OID)
				if err != nil {
					return err
				}
				if o.typ != "blob" {
					return treeRefusal(w.commit, path, "is not a file")
				}
				data, w.read[it.OID] = o.data, o.data
			}
			w.tree.Files[path], e.Size = data, int64(len(data))
		}
		w.tree.Entries[path] = e
	}
	return nil
}

// treeItem is one entry of a tree object.
type treeItem struct {
	Mode string // as ls-tree prints it: six octal digits, made canonical
	Type string // "tree", "commit" (a submodule) or "blob", by the mode
	Name string
	OID  string // hex
}

// parseTree reads a tree object's entries: "<octal mode> <name>\0" and the
// id in idLen raw bytes, each. A name that git would never write (empty,
// ".", "..", or holding a slash) is refused: it would read as a path it is
// not.
func parseTree(data []byte, idLen int) ([]treeItem, error) {
	var items []treeItem
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp <= 0 || nul < sp || len(data) < nul+1+idLen {
			return nil, errors.New("a tree object is malformed")
		}
		mode, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("a tree entry has mode %q", data[:sp])
		}
		name := string(data[sp+1 : nul])
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			return nil, fmt.Errorf("a tree entry is named %q", name)
		}
		canon, typ := canonMode(uint32(mode))
		items = append(items, treeItem{Mode: fmt.Sprintf("%06o", canon), Type: typ, Name: name, OID: hex.EncodeToString(data[nul+1 : nul+1+idLen])})
		data = data[nul+1+idLen:]
	}
	return items, nil
}

// canonMode is the mode git gives an entry of mode m when it reads a tree
// (git's canon_mode), and the type that mode means: a file's permissions
// come down to executable or not, and a mode git does not know is a
// submodule's. The state's readers all see the entry so.
func canonMode(m uint32) (uint32, string) {
	switch m & 0o170000 {
	case 0o100000:
		if m&0o100 != 0 {
			return 0o100755, "blob"
		}
		return 0o100644, "blob"
	case 0o120000:
		return 0o120000, "blob"
	case 0o040000:
		return 0o040000, "tree"
	}
	return 0o160000, "commit"
}
