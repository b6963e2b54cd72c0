package git

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// What git diff --cached costs in a large repository is reading all of
// HEAD's trees, and the index. The index keeps a cache of its own trees
// (its TREE extension), which git add keeps up to date for every folder
// but the ones it touched: where a folder's cached tree is HEAD's, nothing
// under it is staged. So the staged paths are those of the folders whose
// cache is out of date or differs from HEAD, compared entry by entry with
// HEAD's trees there, read through one cat-file.

// indexEntry is one entry of an index: where its path and its object id
// lie in the index's bytes (read in place, not copied: at 100,000 files
// an index is 10 MB, and most entries are only passed over), and its mode.
type indexEntry struct {
	path, pathLen, oid int32
	mode               uint32
}

// cacheTree is a folder of the index's cache of its trees.
type cacheTree struct {
	name  string // the folder's name in its parent ("" for the root)
	oid   string // "" where the cache is out of date
	child []*cacheTree
}

// stagedIndex is what StagedFromIndex needs of an index.
type stagedIndex struct {
	data    []byte       // the index
	names   []byte       // a version 4 index's paths, whole, one after another
	entries []indexEntry // in the index's order: by path, bytewise
	root    *cacheTree
	size    int // of an object id
}

// path is e's path: in the index, or where the index abridges its paths
// (version 4), in names.
func (ix *stagedIndex) path(e indexEntry) []byte {
	if ix.names != nil {
		return ix.names[e.path : e.path+e.pathLen]
	}
	return ix.data[e.path : e.path+e.pathLen]
}

func (ix *stagedIndex) oid(e indexEntry) string {
	return hex.EncodeToString(ix.data[e.oid : e.oid+int32(ix.size)])
}

// errIndexShape is an index this reader does not take: git diff --cached
// answers instead.
var errIndexShape = errors.New("an index this reader does not take")

// parseStagedIndex reads an index whose object ids are size bytes long,
// every entry and the cache of its trees. It takes none with an entry in
// conflict (a stage), one only intended to be added, a folder of a sparse
// index, or an extension git requires its readers to understand.
func parseStagedIndex(data []byte, size int) (stagedIndex, error) {
	ix := stagedIndex{size: size}
	end := len(data) - size
	if end >= 1<<31-1 {
		return ix, errIndexShape
	}
	if end < 12 || string(data[:4]) != "DIRC" {
		return ix, errIndexShape
	}
	version := binary.BigEndian.Uint32(data[4:])
	if version < 2 || version > 4 {
		return ix, errIndexShape
	}
	n := binary.BigEndian.Uint32(data[8:])
	if uint64(n) > uint64(end)/62 { // no entry is shorter
		return ix, errIndexShape
	}
	ix.entries = make([]indexEntry, 0, n)
	p := 12
	var prev []byte
	for ; n > 0; n-- {
		start := p
		if p+40+size+2 > end {
			return ix, errIndexShape
		}
		e := indexEntry{mode: binary.BigEndian.Uint32(data[p+24:]), oid: int32(p + 40)}
		p += 40 + size
		flags := binary.BigEndian.Uint16(data[p:])
		p += 2
		if flags&0x3000 != 0 { // a stage: a conflict
			return ix, errIndexShape
		}
		if flags&0x4000 != 0 {
			if version < 3 || p+2 > end {
				return ix, errIndexShape
			}
			if binary.BigEndian.Uint16(data[p:])&0x2000 != 0 { // intent to add
				return ix, errIndexShape
			}
			p += 2
		}
		var path []byte
		if version == 4 {
			strip, w := uvarint4(data[p:end])
			if w <= 0 || strip > uint64(len(prev)) {
				return ix, errIndexShape
			}
			p += w
			nul := bytes.IndexByte(data[p:end], 0)
			if nul < 0 {
				return ix, errIndexShape
			}
			kept := len(prev) - int(strip)
			if len(ix.names)+kept+nul > maxIndexNames { // paths no index of git's holds
				return ix, errIndexShape
			}
			e.path = int32(len(ix.names))
			ix.names = append(append(ix.names, prev[:kept]...), data[p:p+nul]...)
			path = ix.names[e.path:]
			p += nul + 1
		} else {
			length := int(flags & 0xfff)
			if length == 0xfff {
				length = bytes.IndexByte(data[p:end], 0)
			}
			if length < 0 || p+length > end {
				return ix, errIndexShape
			}
			path, e.path = data[p:p+length], int32(p)
			p = start + (p-start+length+8)&^7
			if p > end {
				return ix, errIndexShape
			}
		}
		if entryMode(e.mode) == "" { // a sparse index's folder, or a mode git never writes
			return ix, errIndexShape
		}
		if len(path) == 0 || prev != nil && bytes.Compare(path, prev) <= 0 {
			return ix, errIndexShape
		}
		e.pathLen = int32(len(path))
		ix.entries = append(ix.entries, e)
		prev = path
	}
	for p < end {
		if p+8 > end {
			return ix, errIndexShape
		}
		sig, length := data[p:p+4], binary.BigEndian.Uint32(data[p+4:])
		p += 8
		if uint64(length) > uint64(end-p) {
			return ix, errIndexShape
		}
		body := data[p : p+int(length)]
		p += int(length)
		switch {
		case string(sig) == "TREE":
			root, rest, err := parseCacheTree(body, size)
			if err != nil || len(rest) != 0 {
				return ix, errIndexShape
			}
			ix.root = root
		case sig[0] < 'A' || sig[0] > 'Z': // an extension git's readers must understand
			return ix, errIndexShape
		}
	}
	if p != end || ix.root == nil {
		return ix, errIndexShape
	}
	ix.data = data
	return ix, nil
}

// entryMode is an index entry's mode as trees list it, "" for a mode an
// entry may not have.
func entryMode(m uint32) string {
	switch m {
	case 0o100644:
		return "100644"
	case 0o100755:
		return "100755"
	case 0o120000:
		return "120000"
	case 0o160000:
		return "160000"
	}
	return ""
}

// maxIndexNames bounds a version 4 index's paths, whole: each may keep
// most of the one before, so a small file could name far more bytes than
// it holds.
const maxIndexNames = 1 << 30

// uvarint4 reads the index version 4's varint: seven bits a byte, the top
// bit set on all but the last, each byte after the first adding one.
func uvarint4(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	v := uint64(b[0] & 0x7f)
	i := 0
	for b[i]&0x80 != 0 {
		i++
		if i >= len(b) || i > 8 {
			return 0, 0
		}
		v = (v+1)<<7 | uint64(b[i]&0x7f)
	}
	return v, i + 1
}

// parseCacheTree reads one folder of a TREE extension and its subfolders:
// its name, NUL, the entries it covers (-1: out of date), a space, its
// number of subfolders, a newline, then its id where it is up to date.
func parseCacheTree(b []byte, size int) (*cacheTree, []byte, error) {
	name, rest, ok := bytes.Cut(b, []byte{0})
	if !ok {
		return nil, nil, errIndexShape
	}
	line, rest, ok := bytes.Cut(rest, []byte{'\n'})
	count, subs, ok2 := bytes.Cut(line, []byte{' '})
	entries, err := strconv.Atoi(string(count))
	children, err2 := strconv.Atoi(string(subs))
	if !ok || !ok2 || err != nil || err2 != nil || entries < -1 || children < 0 || children > len(rest) {
		return nil, nil, errIndexShape
	}
	t := &cacheTree{name: string(name)}
	if entries >= 0 {
		if len(rest) < size {
			return nil, nil, errIndexShape
		}
		t.oid, rest = hex.EncodeToString(rest[:size]), rest[size:]
	}
	for range children {
		var c *cacheTree
		if c, rest, err = parseCacheTree(rest, size); err != nil {
			return nil, nil, err
		}
		t.child = append(t.child, c)
	}
	return t, rest, nil
}

// StagedFromIndex lists the paths where the index file at path differs
// from HEAD, as git diff --cached --name-only --no-renames lists them,
// reading HEAD's trees only where the index's cache of its trees does not
// say they are the same. ok is false where it cannot say (an index it does
// not take, an unborn HEAD): git diff --cached answers there.
func (r Runner) StagedFromIndex(path string) (paths []string, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= 0 || fi.Size() != int64(int(fi.Size())) {
		return nil, false, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, false, nil
	}
	defer syscall.Munmap(data)
	// git starts while the index is read.
	b, err := r.startBatch()
	if err != nil {
		return nil, false, err
	}
	var ix stagedIndex
	formats := 0
	for _, size := range []int{20, 32} {
		if x, err := parseStagedIndex(data, size); err == nil {
			ix, formats = x, formats+1
		}
	}
	if formats != 1 { // neither object format, or (what no index is) both
		return nil, false, b.close()
	}
	d := stagedDiff{b: b, ix: &ix}
	ok, err = d.run()
	end := b.close()
	if big := (*tooBig)(nil); errors.As(err, &big) {
		// A tree larger than cat-file is read for (git is ended for
		// it, so its exit says nothing): git diff --cached answers.
		return nil, false, nil
	}
	if end != nil {
		err = end // git ended on its own, or never started: its words say why
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return d.paths, true, nil
}

// stagedDiff compares an index with HEAD's trees, read as it goes.
type stagedDiff struct {
	b     *batch
	ix    *stagedIndex
	paths []string
}

func (d *stagedDiff) run() (bool, error) {
	head, err := d.b.get("HEAD^{tree}")
	if err != nil || head.id == "" {
		return false, err // an unborn HEAD
	}
	if len(head.id) != 2*d.ix.size {
		return false, nil
	}
	if err := d.folder("", head.id, d.ix.root, d.ix.entries); err == errIndexShape {
		return false, nil
	} else if err != nil {
		return false, err
	}
	slices.Sort(d.paths)
	return true, nil
}

// folder compares the folder at prefix ("" or ending in "/"), whose tree in
// HEAD is tree, with the index's entries under it and its cache there (nil
// where it has none).
func (d *stagedDiff) folder(prefix, tree string, cache *cacheTree, entries []indexEntry) error {
	if cache != nil && cache.oid != "" && cache.oid == tree {
		return nil // the same tree: nothing staged below
	}
	o, err := d.b.get(tree)
	if err != nil {
		return err
	}
	if o.typ != "tree" {
		return fmt.Errorf("git cat-file --batch: %s is not a tree", tree)
	}
	items, err := parseTree(o.data, d.ix.size)
	if err != nil {
		// A tree git mktree makes but this reader refuses (an entry
		// named "", "." or ".."): git diff --cached answers.
		return errIndexShape
	}
	// The index's entries under prefix, by their next name: a file, or a
	// folder's contiguous run (the index sorts whole paths bytewise, so
	// the paths under one folder are next to each other).
	type group struct {
		file    *indexEntry
		entries []indexEntry
	}
	groups := map[string]*group{}
	for i := 0; i < len(entries); {
		name, _, sub := bytes.Cut(d.ix.path(entries[i])[len(prefix):], []byte{'/'})
		g := groups[string(name)]
		if g == nil {
			g = &group{}
			groups[string(name)] = g
		}
		if !sub {
			g.file = &entries[i]
			i++
			continue
		}
		under := d.ix.path(entries[i])[:len(prefix)+len(name)+1]
		j := i + 1
		for j < len(entries) && bytes.HasPrefix(d.ix.path(entries[j]), under) {
			j++
		}
		g.entries = entries[i:j]
		i = j
	}
	children := map[string]*cacheTree{}
	if cache != nil {
		for _, c := range cache.child {
			children[c.name] = c
		}
	}
	for _, it := range items {
		g := groups[it.Name]
		delete(groups, it.Name)
		if g == nil {
			g = &group{}
		}
		path := prefix + it.Name
		if it.Type == "tree" {
			if g.file != nil { // a file where HEAD has a folder
				d.paths = append(d.paths, path)
			}
			if err := d.folder(path+"/", it.OID, children[it.Name], g.entries); err != nil {
				return err
			}
			continue
		}
		if g.file == nil || entryMode(g.file.mode) != it.Mode || d.ix.oid(*g.file) != it.OID {
			d.paths = append(d.paths, path) // changed, gone, or a folder now
		}
		d.added(g.entries) // a folder where HEAD has a file
	}
	for _, g := range groups { // new in the index
		if g.file != nil {
			d.paths = append(d.paths, string(d.ix.path(*g.file)))
		}
		d.added(g.entries)
	}
	return nil
}

// added lists entries new to HEAD.
func (d *stagedDiff) added(entries []indexEntry) {
	for _, e := range entries {
		d.paths = append(d.paths, string(d.ix.path(e)))
	}
}
