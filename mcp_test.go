package oxygen_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rogpeppe/go-internal/testscript"
)

// mcpSessions drives `oxygen mcp` with the SDK's own client, over a real
// stdio subprocess: one session per file, all at once, each from the
// script's directory and environment (plus KEY=VALUE words before the
// file). A file holds one call a line: TOOL {"argument": ...}. Each result
// is printed as "FILE TOOL ok|error JSON", the sessions in the order given.
//
//	mcp [KEY=VALUE...] FILE [[KEY=VALUE...] FILE...]
func mcpSessions(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! mcp")
	}
	type session struct {
		file string
		env  []string
		out  bytes.Buffer
		err  error
	}
	var ss []*session
	var env []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			env = append(env, a)
			continue
		}
		ss = append(ss, &session{file: a, env: env})
		env = nil
	}
	if len(ss) == 0 {
		ts.Fatalf("usage: mcp [KEY=VALUE...] FILE...")
	}
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() { s.err = runSession(ts, s.file, s.env, &s.out) })
	}
	wg.Wait()
	for _, s := range ss {
		ts.Stdout().Write(s.out.Bytes())
		ts.Check(s.err)
	}
}

func runSession(ts *testscript.TestScript, file string, env []string, out *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.Command("oxygen", "mcp")
	cmd.Dir = ts.MkAbs(".") // the script's directory, never the package's
	cmd.Env = append(environ(ts), env...)
	if path, err := lookPath(ts, "oxygen"); err == nil {
		cmd.Path = path
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "oxygen-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", file, err)
	}
	defer cs.Close()
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(file)))
	for sc.Scan() {
		tool, argText, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if tool == "" || strings.HasPrefix(tool, "#") {
			continue
		}
		var arguments map[string]any
		if err := json.Unmarshal([]byte(cmp.Or(argText, "{}")), &arguments); err != nil {
			return fmt.Errorf("%s: %s: %w", file, tool, err)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: arguments})
		if err != nil {
			return fmt.Errorf("%s: %s: %w", file, tool, err)
		}
		data, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return err
		}
		status := "ok"
		if res.IsError {
			status = "error"
		}
		fmt.Fprintf(out, "%s %s %s %s\n", file, tool, status, data)
	}
	return nil
}

// environ is the script's environment, as its exec would see it.
func environ(ts *testscript.TestScript) []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM", "GIT_TERMINAL_PROMPT", "LC_ALL", "TZ", "NO_COLOR", "GIT_COMMITTER_EMAIL", "TMPDIR"} {
		if v := ts.Getenv(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// lookPath finds a program on the script's PATH.
func lookPath(ts *testscript.TestScript, name string) (string, error) {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}
