// Package mcpserver serves oxygen's commands as Model Context Protocol tools
// over stdio. It is its own binary, oxygen-mcp (oxygen mcp hands over to
// it), so that the MCP SDK's size and start-up cost stay out of the oxygen
// that git runs on every commit.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oxygen-protocol/oxygen/internal/cli"
)

// Main serves on the process's standard input and output, on the clock now
// (tests move it; oxygen-mcp passes time.Now), and returns the exit code.
func Main(now func() time.Time) int {
	fs := flag.NewFlagSet("oxygen mcp", flag.ContinueOnError)
	repo := fs.String("repo", "", "the clone to serve (default: the working directory)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "oxygen mcp: unexpected argument %q (see oxygen mcp --help)\n", fs.Arg(0))
		return 2
	}
	if *repo != "" {
		// The server is its own process: every tool call runs there.
		if err := os.Chdir(*repo); err != nil {
			fmt.Fprintf(os.Stderr, "oxygen mcp: --repo: %v\n", err)
			return 2
		}
	}
	if err := newServer(now).Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintf(os.Stderr, "oxygen mcp: %v\n", err)
		return 2
	}
	return 0
}

// The MCP tools are the CLI's commands with --json, run in-process: their
// inputs are the commands' flags and their outputs the commands' JSON, so
// that the two interfaces cannot drift apart.

// Tool inputs. Durations are Go durations, as on the command line.
type (
	mcpNone    struct{}
	mcpExplain struct {
		Paths []string `json:"paths" jsonschema:"paths relative to the repository root"`
	}
	mcpClaim struct {
		Resources []string `json:"resources" jsonschema:"the resources to claim, all or none"`
		TTL       string   `json:"ttl,omitempty" jsonschema:"how long the lease lasts, e.g. 30m (default: the policy's default_ttl)"`
		Reason    string   `json:"reason,omitempty" jsonschema:"why, shown to others"`
		Domain    string   `json:"domain,omitempty" jsonschema:"the domain to claim for, if the identity is in several"`
		Capsule   string   `json:"capsule,omitempty" jsonschema:"the context capsule this work belongs to"`
		Council   string   `json:"council,omitempty" jsonschema:"a granted council call that lifts the change budget"`
		Wait      bool     `json:"wait,omitempty" jsonschema:"queue for a resource another domain holds and take it when free"`
		Timeout   string   `json:"timeout,omitempty" jsonschema:"with wait, give up after this long, e.g. 10m (default 10m)"`
	}
	mcpRenew struct {
		Resource string `json:"resource"`
		TTL      string `json:"ttl,omitempty" jsonschema:"the new time left, e.g. 30m"`
	}
	mcpRelease struct {
		Resource string `json:"resource"`
	}
	mcpSignal struct {
		Kind    string   `json:"kind" jsonschema:"missive or council-call"`
		To      []string `json:"to" jsonschema:"the addressed domains"`
		Files   []string `json:"files,omitempty" jsonschema:"the exact paths it is about"`
		Subject string   `json:"subject" jsonschema:"what and why, in a line"`
		Capsule string   `json:"capsule,omitempty"`
		Domain  string   `json:"domain,omitempty" jsonschema:"the domain to send from, if the identity is in several"`
	}
	mcpAck struct {
		ID string `json:"id" jsonschema:"the signal to acknowledge"`
	}
	mcpCheck struct {
		Range  string `json:"range,omitempty" jsonschema:"judge every commit of A..B"`
		Commit string `json:"commit,omitempty" jsonschema:"judge one commit"`
	}
	mcpEvents struct {
		Since  string `json:"since,omitempty" jsonschema:"only events after this id, or at or after this time or this long ago"`
		Follow bool   `json:"follow,omitempty" jsonschema:"wait for new events, until limit or timeout"`
		Limit  int    `json:"limit,omitempty" jsonschema:"at most this many events"`
	}
)

// A tool call must come back: a follow lasts at most mcpFollowDefault, a
// wait that names no timeout mcpWaitDefault (then wait-timeout, exit 1).
const (
	mcpFollowDefault = time.Minute
	mcpWaitDefault   = 10 * time.Minute
)

func newServer(now func() time.Time) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "oxygen", Version: cli.Version()}, nil)
	tool := func(name, desc string) *mcp.Tool { return &mcp.Tool{Name: name, Description: desc} }
	mcp.AddTool(s, tool("status", "Who you are, your domains, your leases and what waits for you"), mcpTool(now, func(mcpNone) []string { return []string{"status"} }))
	mcp.AddTool(s, tool("explain", "For each path: its resource or core surface, who holds it, and whether you may commit a change to it now (with the fix if not)"), mcpTool(now, func(in mcpExplain) []string {
		return append([]string{"explain", "--"}, in.Paths...)
	}))
	mcp.AddTool(s, tool("claim", "Take leases for your domain, all or none; with wait, queue for a held resource and take it when it is free"), mcpTool(now, func(in mcpClaim) []string {
		args := append([]string{"claim"}, flagArgs("ttl", in.TTL, "reason", in.Reason, "domain", in.Domain, "capsule", in.Capsule, "council", in.Council, "timeout", in.Timeout)...)
		if in.Wait {
			args = append(args, "--wait")
			if in.Timeout == "" {
				args = append(args, "--timeout="+mcpWaitDefault.String())
			}
		}
		return append(append(args, "--"), in.Resources...)
	}))
	mcp.AddTool(s, tool("renew", "Extend a lease your domain holds to now + ttl"), mcpTool(now, func(in mcpRenew) []string {
		return append(append([]string{"renew"}, flagArgs("ttl", in.TTL)...), "--", in.Resource)
	}))
	mcp.AddTool(s, tool("release", "End a lease your domain holds"), mcpTool(now, func(in mcpRelease) []string { return []string{"release", "--", in.Resource} }))
	mcp.AddTool(s, tool("signal", "Send a missive (a handshake request for exact files) or a council call to other domains"), mcpTool(now, func(in mcpSignal) []string {
		args := []string{"signal", in.Kind}
		for _, d := range in.To {
			args = append(args, "--to", d)
		}
		for _, f := range in.Files {
			args = append(args, "--file", f)
		}
		return append(args, flagArgs("subject", in.Subject, "capsule", in.Capsule, "domain", in.Domain)...)
	}))
	mcp.AddTool(s, tool("ack", "Acknowledge a missive or council call addressed to your domain"), mcpTool(now, func(in mcpAck) []string { return []string{"signal", "ack", "--", in.ID} }))
	mcp.AddTool(s, tool("check", "Judge the staged change (default), a range A..B or one commit, as the hooks do"), mcpTool(now, func(in mcpCheck) []string {
		return append([]string{"check"}, flagArgs("range", in.Range, "commit", in.Commit)...)
	}))
	mcp.AddTool(s, tool("events", "The state's history, from an id or time on; with follow, wait for new events"), mcpTool(now, func(in mcpEvents) []string {
		args := append([]string{"events"}, flagArgs("since", in.Since)...)
		if in.Follow {
			args = append(args, "--follow")
		}
		if in.Limit > 0 {
			args = append(args, "--limit", strconv.Itoa(in.Limit))
		}
		return args
	}))
	return s
}

// flagArgs turns name, value pairs into flags, leaving out empty values.
func flagArgs(pairs ...string) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, "--"+pairs[i]+"="+pairs[i+1])
		}
	}
	return out
}

// mcpTool makes a tool of a command: it runs it in-process with --json and
// answers with its JSON as the structured result, isError when it did not
// exit 0. NDJSON (events) comes back as {"events": [...]}.
func mcpTool[In any](now func() time.Time, argv func(In) []string) mcp.ToolHandlerFor[In, any] {
	return func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		args := argv(in)
		if i := slices.Index(args, "--"); i >= 0 {
			args = slices.Insert(args, i, "--json")
		} else {
			args = append(args, "--json")
		}
		if args[0] == "events" && slices.Contains(args, "--follow") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, mcpFollowDefault)
			defer cancel()
		}
		var stdout, stderr bytes.Buffer
		code := cli.RunContext(ctx, args, strings.NewReader(""), &stdout, &stderr, now)
		var out any
		if args[0] == "events" && code == 0 {
			events := []json.RawMessage{}
			for line := range bytes.Lines(stdout.Bytes()) {
				events = append(events, json.RawMessage(bytes.TrimSpace(line)))
			}
			out = map[string]any{"events": events}
		} else if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			return nil, nil, fmt.Errorf("oxygen %s printed no JSON (exit %d): %s", args[0], code, strings.Join(strings.Fields(stderr.String()), " "))
		}
		text, _ := json.Marshal(out)
		return &mcp.CallToolResult{
			Content:           []mcp.Content{&mcp.TextContent{Text: string(text)}},
			StructuredContent: out,
			IsError:           code != 0,
		}, nil, nil
	}
}
