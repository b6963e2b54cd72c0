package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/oxygen-protocol/oxygen/policy"
)

// stateFiles turns the state's files (by path: leases/<resource>.yaml,
// capsules/<id>.yaml, signals/<id>.yaml) into the judge's state. A record
// that does not parse is broken: it counts for nothing, and is named by
// name(path) wherever it is reported. Other paths are not the state's.
func stateFiles(files map[string][]byte, name func(path string) string) policy.State {
	var st policy.State
	for _, path := range slices.Sorted(maps.Keys(files)) {
		dir, file, ok := strings.Cut(path, "/")
		id, isYAML := strings.CutSuffix(file, ".yaml")
		if !ok || !slices.Contains(recordDirs, dir) {
			continue
		}
		valid := isYAML && !strings.Contains(file, "/")
		var err error
		switch dir {
		case leasesDir:
			var l policy.Lease
			if valid = valid && policy.ValidName(id); valid {
				if l, err = ParseLease(id, files[path]); err == nil {
					st.Leases = append(st.Leases, l)
				}
			}
		case capsulesDir:
			var c policy.Capsule
			if valid = valid && policy.ValidRecordID(id); valid {
				if c, err = ParseCapsule(id, files[path]); err == nil {
					st.Capsules = append(st.Capsules, c)
				}
			}
		case signalsDir:
			var s policy.Signal
			if valid = valid && policy.ValidRecordID(id); valid {
				if s, err = ParseSignal(id, files[path]); err == nil {
					st.Signals = append(st.Signals, s)
				}
			}
		case refusalsDir:
			var d policy.DeadEnd
			if valid = valid && policy.ValidRecordID(id); valid {
				if d, err = ParseDeadEnd(id, files[path]); err == nil {
					st.DeadEnds = append(st.DeadEnds, d)
				}
			}
		case waitersDir:
			var w policy.Waiter
			if valid = valid && policy.ValidRecordID(id); valid {
				if w, err = ParseWaiter(id, files[path]); err == nil {
					st.Waiters = append(st.Waiters, w)
				}
			}
		}
		switch {
		case !valid:
			st.Broken = append(st.Broken, brokenRecord(path, name(path), fmt.Sprintf("not a %s file name (want %s/<%s>.yaml)", kind[dir], dir, idName[dir])))
		case err != nil:
			st.Broken = append(st.Broken, brokenRecord(path, name(path), err.Error()))
		}
	}
	return st
}

var (
	kind   = map[string]string{leasesDir: "lease", capsulesDir: "capsule", signalsDir: "signal", waitersDir: "waiter", refusalsDir: "dead end"}
	idName = map[string]string{leasesDir: "resource", capsulesDir: "id", signalsDir: "id", waitersDir: "id", refusalsDir: "id"}
)

// brokenRecord describes a record that cannot be trusted. For a lease, it
// names the resource, which it then covers for nobody.
func brokenRecord(path, file, cause string) policy.BrokenLease {
	b := policy.BrokenLease{Record: path, File: file, Cause: cause}
	if name, ok := strings.CutPrefix(path, leasesDir+"/"); ok {
		b.Resource = strings.TrimSuffix(name, ".yaml")
	}
	return b
}
