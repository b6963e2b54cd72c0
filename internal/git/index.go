package git

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"syscall"
)

// IndexTree returns the id of the tree an index file holds, from the index's
// own cache of its trees (its TREE extension), where that cache covers the
// whole index: git commit brings it up to date before it runs pre-commit.
// It returns "" where the cache is out of date or absent, where the index
// has an extension git requires its readers to understand (a split or a
// sparse index), or where the bytes are not an index whose every byte this
// reader accounts for in exactly one object format.
func IndexTree(data []byte) string {
	id, parsed := "", 0
	for _, size := range []int{20, 32} { // SHA-1, SHA-256
		if tree, ok := indexTree(data, size); ok {
			id, parsed = tree, parsed+1
		}
	}
	if parsed != 1 {
		return ""
	}
	return id
}

// indexTree reads an index whose object ids are size bytes long: ok is
// false where its layout does not account for every byte.
func indexTree(data []byte, size int) (id string, ok bool) {
	end := len(data) - size // the checksum trailer
	if end < 12 || string(data[:4]) != "DIRC" {
		return "", false
	}
	version := binary.BigEndian.Uint32(data[4:])
	if version < 2 || version > 4 {
		return "", false
	}
	p := 12
	for n := binary.BigEndian.Uint32(data[8:]); n > 0; n-- {
		start := p
		p += 40 + size // stat data, object id
		if p+2 > end {
			return "", false
		}
		flags := binary.BigEndian.Uint16(data[p:])
		p += 2
		if flags&0x4000 != 0 { // extended flags
			if version < 3 {
				return "", false
			}
			p += 2
		}
		if p > end {
			return "", false
		}
		if version == 4 {
			// The path: how much of the previous one it keeps (a varint
			// whose bytes but the last have the top bit), then the rest,
			// NUL-terminated; no padding.
			for p < end && data[p]&0x80 != 0 {
				p++
			}
			nul := -1
			if p < end {
				nul = bytes.IndexByte(data[p+1:end], 0)
			}
			if nul < 0 {
				return "", false
			}
			p += 1 + nul + 1
			continue
		}
		// The path, then 1 to 8 NULs up to a multiple of 8 bytes; its
		// length is in the flags unless it is 0xfff or more.
		length := int(flags & 0xfff)
		if length == 0xfff {
			if length = bytes.IndexByte(data[p:end], 0); length < 0 {
				return "", false
			}
		}
		p = start + (p-start+length+8)&^7
		if p > end {
			return "", false
		}
	}
	required := false
	for p < end {
		if p+8 > end {
			return "", false
		}
		sig, n := data[p:p+4], binary.BigEndian.Uint32(data[p+4:])
		p += 8
		if uint64(n) > uint64(end-p) {
			return "", false
		}
		body := data[p : p+int(n)]
		p += int(n)
		switch {
		case string(sig) == "TREE":
			id = rootTree(body, size)
		case sig[0] < 'A' || sig[0] > 'Z': // git's mark of an extension it must understand
			required = true
		}
	}
	if required {
		return "", true
	}
	return id, true
}

// rootTree reads the root's entry, the first, of a TREE extension: its path
// (empty), NUL, the number of index entries it covers (-1 where it is out of
// date), a space, its number of subtrees, a newline, then its id if it is
// up to date.
func rootTree(body []byte, size int) string {
	if len(body) == 0 || body[0] != 0 {
		return ""
	}
	line, rest, ok := bytes.Cut(body[1:], []byte{'\n'})
	count, _, ok2 := bytes.Cut(line, []byte{' '})
	n, err := strconv.Atoi(string(count))
	if !ok || !ok2 || err != nil || n < 0 || len(rest) < size {
		return ""
	}
	return hex.EncodeToString(rest[:size])
}

// ReadIndexTree is IndexTree of the index file at path ("" where it
// cannot be read). It maps the file rather than copy it: at 100,000 files
// an index is 10 MB, and only the few bytes of each entry's flags are read.
func ReadIndexTree(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= 0 || fi.Size() != int64(int(fi.Size())) {
		return ""
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return ""
	}
	defer syscall.Munmap(data)
	return IndexTree(data)
}
