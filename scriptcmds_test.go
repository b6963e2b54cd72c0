package oxygen_test

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the scripts' own commands.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"adopt":  adopt,
	"runfix": runFix,
	"mcp":    mcpSessions,
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
