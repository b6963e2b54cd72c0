package oxygen_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the scripts' own commands.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"adopt":    adopt,
	"runfix":   runFix,
	"mcp":      mcpSessions,
	"agestate": ageState,
	"rawtree":  rawTree,
}

// rawTree writes, in the repository of the current directory, the tree
// BASE names with entries added as given, bytes and all, where git's own
// tools refuse to write them (a name holding a slash), and puts its id in
// variable VAR. An entry's object is any name git resolves.
//
//	rawtree VAR BASE MODE NAME OBJECT...
func rawTree(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 5 || (len(args)-2)%3 != 0 {
		ts.Fatalf("usage: rawtree VAR BASE MODE NAME OBJECT...")
	}
	git := gitcli.Runner{Dir: ts.MkAbs(".")}
	tree, err := git.Run(nil, "cat-file", "tree", args[1])
	ts.Check(err)
	for i := 2; i < len(args); i += 3 {
		out, err := git.Run(nil, "rev-parse", "--verify", args[i+2])
		ts.Check(err)
		id, err := hex.DecodeString(string(bytes.TrimSpace(out)))
		ts.Check(err)
		tree = append(append(tree, args[i]+" "+args[i+1]+"\x00"...), id...)
	}
	out, err := git.Run(bytes.NewReader(tree), "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
	ts.Check(err)
	ts.Setenv(args[0], string(bytes.TrimSpace(out)))
}

// ageState gives the state ref of bare repository BARE the history of a
// store that grew before checkpoints were written: a fleet's claims and
// releases (store.FleetActs, decided under the policy in file POLICY, one
// a minute, ending a day ago), cut in the given counts, all but the last
// as history segments without checkpoints and the last as events.jsonl,
// in one commit on top of the ref, written past the server's hook.
//
//	agestate BARE POLICY N...
func ageState(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: agestate BARE POLICY N...")
	}
	var counts []int
	total := 0
	for _, a := range args[2:] {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			ts.Fatalf("agestate: %q is not a count of events", a)
		}
		counts, total = append(counts, n), total+n
	}
	p, err := policy.Load(args[1], []byte(ts.ReadFile(args[1])))
	ts.Check(err)
	seed := ts.MkAbs("agestate-seed")
	ts.Check(os.MkdirAll(seed, 0o755))
	end := time.Now().Add(-24 * time.Hour)
	recorded, refused, err := store.OpenLocal(seed).Seed(p, store.FleetActs(total, false, end.Add(-time.Duration(total)*time.Minute), time.Minute))
	ts.Check(err)
	if recorded != total || refused > 0 {
		ts.Fatalf("agestate: %d events recorded, %d acts refused", recorded, refused)
	}
	dir := filepath.Join(seed, filepath.FromSlash(store.Dir))
	log, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	ts.Check(err)
	put := map[string][]byte{}
	records, err := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
	ts.Check(err)
	for _, file := range records {
		rel, err := filepath.Rel(dir, file)
		ts.Check(err)
		put[filepath.ToSlash(rel)] = []byte(ts.ReadFile(file))
	}
	for i, n := range counts {
		cut := 0
		for range n {
			cut += bytes.IndexByte(log[cut:], '\n') + 1
		}
		path := "events.jsonl"
		if i < len(counts)-1 {
			path = fmt.Sprintf("history/%06d.jsonl", i+1)
		}
		put[path], log = log[:cut], log[cut:]
	}
	bare := gitcli.Runner{Dir: ts.MkAbs(args[0])}
	parent, err := bare.RefID("refs/oxygen/state")
	ts.Check(err)
	id, err := bare.WriteCommit(ts.MkAbs(args[0]), gitcli.StateCommit{Parent: parent, Put: put, Message: "aged", By: "fleet@builder.example", At: end})
	ts.Check(err)
	_, err = bare.Run(nil, "update-ref", "refs/oxygen/state", id)
	ts.Check(err)
}

// runFix runs, as written, every distinct fix.argv in a JSON file oxygen
// printed (a list of violations or an error envelope): it proves that the
// fixes oxygen hands to agents run and do what they say.
//
//	runfix FILE
func runFix(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: runfix FILE")
	}
	var doc any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc))
	var argvs [][]string
	collectFixes(doc, &argvs)
	if len(argvs) == 0 {
		ts.Fatalf("%s holds no fix.argv", args[0])
	}
	for _, argv := range argvs {
		ts.Logf("runfix: %q", argv)
		err := ts.Exec(argv[0], argv[1:]...)
		if (err != nil) != neg {
			ts.Fatalf("runfix %q: %v", argv, err)
		}
	}
}

func collectFixes(v any, out *[][]string) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			collectFixes(e, out)
		}
	case map[string]any:
		if fix, ok := v["fix"].(map[string]any); ok {
			var argv []string
			for _, w := range fix["argv"].([]any) {
				argv = append(argv, w.(string))
			}
			if !slices.ContainsFunc(*out, func(a []string) bool { return slices.Equal(a, argv) }) {
				*out = append(*out, argv)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			collectFixes(v[k], out)
		}
	}
}
