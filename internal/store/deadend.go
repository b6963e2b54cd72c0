package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// DeadEnd records one refusal by a hook. A hook writes it where the
// refusal happened, in the clone (or on the server), without touching the
// network; with the git store, the clone's next act or oxygen sync carries
// it to the shared state (CarryDeadEnds).
type DeadEnd = policy.DeadEnd

const (
	deadEndsDir = "dead_ends"
	maxDeadEnds = 500 // the newest are kept: an agent retrying must not fill the disk
)

// RecordDeadEnd writes a dead end, dropping the oldest past maxDeadEnds.
func (s *Local) RecordDeadEnd(d DeadEnd) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir := filepath.Join(s.dir, deadEndsDir)
	if err := mkdirNoFollow(dir); err != nil {
		return err
	}
	d.ID = d.At.UTC().Format("20060102T150405.000Z") + "-" + randomHex(3)
	if err := writeAtomic(filepath.Join(dir, d.ID+".yaml"), marshal(d)); err != nil {
		return err
	}
	names, err := s.deadEndNames()
	if err != nil {
		return err
	}
	for len(names) > maxDeadEnds {
		os.Remove(filepath.Join(dir, names[0]))
		names = names[1:]
	}
	return nil
}

func (s *Local) deadEndNames() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, deadEndsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".yaml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // ids begin with their time
	return names, nil
}

// DeadEnds lists the recorded dead ends, oldest first. One that cannot be
// read is reported as such, not dropped.
func (s *Local) DeadEnds() ([]DeadEnd, error) {
	if err := s.checkDirs(false); err != nil {
		return nil, err
	}
	names, err := s.deadEndNames()
	if err != nil {
		return nil, err
	}
	var out []DeadEnd
	for _, n := range names {
		file := filepath.Join(s.dir, deadEndsDir, n)
		data, err := readRecord(file)
		var d DeadEnd
		if err == nil {
			err = decodeStrict(data, &d)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %v", file, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func mkdirNoFollow(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.Mkdir(dir, 0o755)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: not a directory (a symlink or file where the store's folder should be); move it away: mv %s %s.moved", dir, dir, dir)
	}
	return nil
}

// refusalsDir holds, in the shared state, the dead ends carried there.
const refusalsDir = "refusals"

func refusalPath(id string) string { return refusalsDir + "/" + id + ".yaml" }

type deadEndFile struct {
	Version        int `yaml:"version"`
	policy.DeadEnd `yaml:",inline"`
}

// FormatDeadEnd renders a dead end as the shared state keeps it.
func FormatDeadEnd(d DeadEnd) []byte {
	return marshal(deadEndFile{Version: formatVersion, DeadEnd: d})
}

// ParseDeadEnd reads the shared state's dead end filed as id.
func ParseDeadEnd(id string, data []byte) (DeadEnd, error) {
	var f deadEndFile
	if err := decodeStrict(data, &f); err != nil {
		return f.DeadEnd, err
	}
	d := f.DeadEnd
	switch {
	case f.Version != formatVersion:
		return d, fmt.Errorf("format version %d: this oxygen reads version %d", f.Version, formatVersion)
	case d.ID != id:
		return d, fmt.Errorf("names dead end %q but is filed as %q", d.ID, id)
	case d.Who == "" || d.At.IsZero():
		return d, errors.New("who or at missing")
	}
	d.At = d.At.UTC()
	return d, nil
}

// carriedFile names the last dead end of the clone's that CarryDeadEnds
// took to the shared state (ids sort by time), so that each act reads only
// the new ones.
const carriedFile = "dead_ends_carried"

// maxCarry bounds the acts one carry makes: the rest wait for the next.
const maxCarry = 16

// CarryDeadEnds takes the dead ends this clone recorded since the last
// carry to the shared state, one act dead-end each, by by: one recorded for
// someone else, or that the policy refuses, is passed over. It stops at the
// first error (offline: the next carry tries again) and says how many it
// carried.
func (g *Git) CarryDeadEnds(p *policy.Policy, by string, clock func() time.Time) (int, error) {
	names, err := g.local.deadEndNames()
	if err != nil || len(names) == 0 {
		return 0, err
	}
	mark := filepath.Join(g.local.dir, carriedFile)
	last, _ := readRecord(mark)
	n := 0
	for _, name := range names {
		id := strings.TrimSuffix(name, ".yaml")
		if id <= strings.TrimSpace(string(last)) {
			continue
		}
		if n == maxCarry {
			break
		}
		data, err := readRecord(filepath.Join(g.local.dir, deadEndsDir, name))
		var d DeadEnd
		act := policy.Act{Kind: policy.ActDeadEnd, By: by, DeadEnd: &d}
		if err == nil && decodeStrict(data, &d) == nil && d.ID == id && carriable(p, act, clock()) {
			_, err := g.Act(p, act, clock)
			var r *policy.Refusal
			if err != nil && !errors.As(err, &r) {
				return n, err
			}
			if err == nil {
				n++
			}
		}
		last = []byte(id)
		if err := writeAtomic(mark, last); err != nil {
			return n, err
		}
	}
	return n, nil
}

// carriable says whether the policy takes act's dead end at all (its
// author, its size, its time), so that one it never would does not stop
// the carrying of the others, and whether it formats back.
func carriable(p *policy.Policy, act policy.Act, now time.Time) bool {
	_, err := p.Decide(act, policy.State{}, now)
	return err == nil && FormatsBack(*act.DeadEnd)
}

// FormatsBack says whether FormatDeadEnd(d) reads back: yaml.v3 writes
// some texts in a list as a block scalar it cannot read, and such a record
// would be an unreadable one in every clone.
func FormatsBack(d DeadEnd) bool {
	_, err := ParseDeadEnd(d.ID, FormatDeadEnd(d))
	return err == nil
}

// DeadEndsOf lists the dead ends the clone whose root is root knows,
// oldest first: its own, and, with the git store, every clone's carried
// to the shared state.
func DeadEndsOf(s Store, root string) ([]DeadEnd, error) {
	own, err := OpenLocal(root).DeadEnds()
	if err != nil {
		return own, err
	}
	if _, ok := s.(*Git); !ok {
		return own, nil
	}
	st, err := s.Current()
	if err != nil {
		return own, err
	}
	out := slices.Clone(st.DeadEnds)
	for _, d := range own {
		if !slices.ContainsFunc(out, func(x DeadEnd) bool { return x.ID == d.ID }) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b DeadEnd) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
