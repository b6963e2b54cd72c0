package git_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/git"
)

// Object ids for the seeds: SHA-1 and SHA-256 sized, and git's zero ids.
var (
	fzA    = "5ee3c493ae72f7d45491d1f61cff1c54ea141d44"
	fzB    = "ee4d2ba1a65a004fc3b810af8f0344cd7f531052"
	fzC    = "7cf920c2ad21f78daacadef4bca61b60232748e3"
	fzM    = "fab52e755305ccb7d00cedb3a55e0a4b2a02dc73"
	fzLong = strings.Repeat("ab", 32)
	fzZero = strings.Repeat("0", 40)
)

// oneLine fails the fuzz run on an error message of more than one line:
// every error oxygen prints is one line.
func oneLine(t *testing.T, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error of more than one line: %q", err)
	}
}

// hookLines is what a hook's line reader keeps of stdin: the lines, less a
// final "\r" (bufio's and the parser's own), that are not blank.
func hookLines(data []byte) []string {
	var out []string
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if len(data) == 0 {
		return nil
	}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\r"), "\r")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// FuzzParsePrePush: never panics; a parse that succeeds gives one PushRef
// per line that is not blank, with full object ids and refs with no space
// in them; printing those back as git does reads back the same.
func FuzzParsePrePush(f *testing.F) {
	for _, s := range []string{
		"refs/heads/main " + fzA + " refs/heads/main " + fzB + "\n",
		"refs/heads/main " + fzA + " refs/heads/main " + fzZero + "\n",
		"(delete) " + fzZero + " refs/heads/old " + fzB + "\n",
		"refs/heads/a " + fzA + " refs/heads/a " + fzB + "\nrefs/tags/v1 " + fzC + " refs/tags/v1 " + fzZero + "\n",
		"refs/heads/main " + fzLong + " refs/heads/main " + strings.Repeat("0", 64) + "\r\n",
		"\n\n  \n",
		"",
		"this is not what git sends\n",
		"refs/heads/main " + fzA + " refs/heads/main\n",
		"refs/heads/main " + fzA[:39] + " refs/heads/main " + fzB + "\n",
		"refs/heads/main " + strings.ToUpper(fzA) + " refs/heads/main " + fzB + "\n",
		"refs/heads/main  " + fzA + " refs/heads/main " + fzB + "\n",
		" " + fzA + " refs/heads/main " + fzB + "\n",
		"refs/heads/main " + fzA + " refs/heads/main " + fzB, // no final newline
		"refs/heads/main " + fzA + " refs/heads/ma",          // truncated
		"refs/heads/main\t" + fzA + " refs/heads/main " + fzB + "\n",
		strings.Repeat("x", 5000) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, err := git.ParsePrePush(bytes.NewReader(data))
		if err != nil {
			if refs != nil {
				t.Fatalf("%d refs with error %v", len(refs), err)
			}
			oneLine(t, err)
			return
		}
		if lines := hookLines(data); len(refs) != len(lines) {
			t.Fatalf("%d refs from %d lines that are not blank: %q", len(refs), len(lines), lines)
		}
		var buf bytes.Buffer
		for _, r := range refs {
			if !git.IsObjectID(r.LocalID) || !git.IsObjectID(r.RemoteID) {
				t.Fatalf("accepted ids %q %q", r.LocalID, r.RemoteID)
			}
			if r.LocalRef == "" || r.RemoteRef == "" || strings.ContainsAny(r.LocalRef+r.RemoteRef, " \n") {
				t.Fatalf("accepted refs %q %q", r.LocalRef, r.RemoteRef)
			}
			if r.Deletes() != (strings.Trim(r.LocalID, "0") == "") || r.Creates() != (strings.Trim(r.RemoteID, "0") == "") {
				t.Fatalf("Deletes/Creates of %+v", r)
			}
			fmt.Fprintf(&buf, "%s %s %s %s\n", r.LocalRef, r.LocalID, r.RemoteRef, r.RemoteID)
		}
		back, err := git.ParsePrePush(&buf)
		if err != nil || !slices.Equal(back, refs) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, refs)
		}
	})
}

// FuzzParsePreReceive: never panics; a parse that succeeds gives one
// RefUpdate per line that is not blank, with full ids and a ref under
// refs/; printing them back reads back the same.
func FuzzParsePreReceive(f *testing.F) {
	for _, s := range []string{
		fzA + " " + fzB + " refs/heads/main\n",
		fzZero + " " + fzB + " refs/heads/new\n",
		fzA + " " + fzZero + " refs/heads/gone\n",
		fzA + " " + fzB + " refs/heads/main\n" + fzC + " " + fzM + " refs/oxygen/state\n",
		fzLong + " " + fzLong + " refs/tags/v1\r\n",
		"",
		"\n \n",
		"garbage\n",
		fzA + " " + fzB + " main\n",
		fzA + " " + fzB + "\n",
		fzA + " " + fzB + " refs/heads/main extra\n",
		fzA + " " + fzB + " refs/heads/ma", // truncated
		fzA + " " + fzB[:20],
		fzA + "  " + fzB + " refs/heads/main\n",
		"\x00\xff\xfe" + fzA + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ups, err := git.ParsePreReceive(bytes.NewReader(data))
		if err != nil {
			if ups != nil {
				t.Fatalf("%d updates with error %v", len(ups), err)
			}
			oneLine(t, err)
			return
		}
		if lines := hookLines(data); len(ups) != len(lines) {
			t.Fatalf("%d updates from %d lines that are not blank", len(ups), len(lines))
		}
		var buf bytes.Buffer
		for _, u := range ups {
			if !git.IsObjectID(u.Old) || !git.IsObjectID(u.New) || !strings.HasPrefix(u.Ref, "refs/") || strings.ContainsAny(u.Ref, " \n") {
				t.Fatalf("accepted %+v", u)
			}
			fmt.Fprintf(&buf, "%s %s %s\n", u.Old, u.New, u.Ref)
		}
		back, err := git.ParsePreReceive(&buf)
		if err != nil || !slices.Equal(back, ups) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, ups)
		}
	})
}

// revListLine prints one commit as RevList's format does.
func revListLine(c git.Commit) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d\x00%s\x00%s\n", c.ID, strings.Join(c.Parents, " "), c.Committer, c.Time.Unix(), c.Authored.Unix(), strings.Join(c.Council, ","), c.Subject)
}

// FuzzParseRevList: never panics; a parse that succeeds gives one commit per
// line that is not empty, each with object ids for itself and its parents,
// a time in UTC and Council values that are trimmed and not empty; and
// printing the commits back as git would reads back the same.
func FuzzParseRevList(f *testing.F) {
	real := fzA + "\x00\x00a@b.example\x001795882710\x001795882710\x00\x00one\n" +
		fzB + "\x00" + fzA + "\x00a@b.example\x001795882710\x001795882710\x00\x00three\n" +
		fzC + "\x00" + fzA + "\x00a@b.example\x001795882710\x001795882710\x00\x00two\n" +
		fzM + "\x00" + fzB + " " + fzC + "\x00a@b.example\x001795882711\x001795882711\x00\x00Merge branch 'side'\n" +
		fzLong + "\x00" + fzM + "\x00a@b.example\x001795882711\x001795882711\x00c-1,c-2\x00four\n"
	for _, s := range []string{
		real,
		"",
		"\n",
		fzA + "\x00\x00\x000\x000\x00\x00\n", // no e-mail, time 0, no subject
		fzA + "\x00\x00a@b\x00-1\x00-1\x00 , x ,,\x00sub\x00with\x00nul\n", // a negative time, a ragged list
		fzA + "\x00\x00a@b\x009223372036854775807\x009223372036854775807\x00\x00far\n",
		fzA + "\x00\x00a@b\x0017x\x0017x\x00\x00bad time\n",
		fzA + "\x00HEAD\x00a@b\x001\x001\x00\x00bad parent\n",
		"HEAD\x00\x00a@b\x001\x001\x00\x00bad id\n",
		fzA + "\x00\x00a@b\x001\x001\x00\x00", // no final newline
		fzA + "\x00\x00a@b\x00",               // truncated
		strings.ToUpper(fzA) + "\x00\x00a@b\x001\x001\x00\x00upper\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		commits, err := git.ParseRevList(out)
		if err != nil {
			if commits != nil {
				t.Fatalf("%d commits with error %v", len(commits), err)
			}
			oneLine(t, err)
			return
		}
		lines := 0
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if l != "" {
				lines++
			}
		}
		if len(commits) != lines {
			t.Fatalf("%d commits from %d lines", len(commits), lines)
		}
		var buf bytes.Buffer
		for _, c := range commits {
			if !git.IsObjectID(c.ID) {
				t.Fatalf("accepted id %q", c.ID)
			}
			for _, p := range c.Parents {
				if !git.IsObjectID(p) {
					t.Fatalf("accepted parent %q", p)
				}
			}
			if c.Time.Location() != time.UTC {
				t.Fatalf("time %v not in UTC", c.Time)
			}
			for _, v := range c.Council {
				if v == "" || v != strings.TrimSpace(v) || strings.Contains(v, ",") {
					t.Fatalf("council value %q", v)
				}
			}
			if strings.ContainsAny(c.Committer, "\x00\n") || strings.Contains(c.Subject, "\n") {
				t.Fatalf("a field runs over: %+v", c)
			}
			buf.WriteString(revListLine(c))
		}
		back, err := git.ParseRevList(buf.Bytes())
		if err != nil || len(back) != len(commits) {
			t.Fatalf("round trip: %d commits, %v; want %d", len(back), err, len(commits))
		}
		for i := range back {
			a, b := back[i], commits[i]
			if a.ID != b.ID || !slices.Equal(a.Parents, b.Parents) || a.Committer != b.Committer || !a.Time.Equal(b.Time) || !a.Authored.Equal(b.Authored) ||
				a.Subject != b.Subject || !slices.Equal(a.Council, b.Council) {
				t.Fatalf("round trip of commit %d: %+v, want %+v", i, a, b)
			}
		}
	})
}

// FuzzParseLog: never panics; errors are one line; every commit it returns
// has a valid id and parents; and what it parsed, printed again the way git
// log prints it, parses back to the same commits.
func FuzzParseLog(f *testing.F) {
	var real []byte
	real = append(real, git.LogRecordForTest(fzA, "", 1795882711, "root", []string{"a", "with\nnewline"})...)
	real = append(real, git.LogRecordForTest(fzB, fzA, 1795882712, "", nil)...)
	real = append(real, git.LogRecordForTest(fzM, fzA+" "+fzB, 1795882713, "Merge", []string{"b"})...)
	real = append(real, git.LogRecordForTest(fzC, fzM, 1795882714, "a path named like an id", []string{fzA})...)
	f.Add(real)
	f.Add([]byte(""))
	f.Add([]byte("\x00" + fzA + "\x00\x00a@b\x00x\x00x\x00\x00s\x00"))             // a bad time
	f.Add([]byte("\x00" + fzA + "\x00\x00a@b\x001\x001\x00\x00s\x00\nm\x00a\x00")) // a lower-case status
	f.Add([]byte("\x00" + fzA + "\x00\x00a@b\x001\x001\x00\x00s\x00\nM\x00"))      // a status and no path
	f.Add([]byte("M\x00a\x00"))                                                    // a path before any commit
	f.Fuzz(func(t *testing.T, out []byte) {
		cs, err := git.ParseLog(out)
		if err != nil {
			if cs != nil {
				t.Fatalf("commits with error %v", err)
			}
			oneLine(t, err)
			return
		}
		var buf bytes.Buffer
		for _, c := range cs {
			if !git.IsObjectID(c.ID) {
				t.Fatalf("commit id %q", c.ID)
			}
			for _, p := range c.Parents {
				if !git.IsObjectID(p) {
					t.Fatalf("parent %q", p)
				}
			}
			for _, d := range c.Deleted {
				if !slices.Contains(c.Paths, d) {
					t.Fatalf("deleted %q is not one of its paths %q", d, c.Paths)
				}
			}
			if strings.ContainsAny(c.Subject, "\x00") || len(c.Council) > 0 {
				return // fields the renderer below does not print
			}
			buf.Write(git.LogRecordForTest(c.ID, strings.Join(c.Parents, " "), int(c.Time.Unix()), c.Subject, c.Paths))
		}
		back, err := git.ParseLog(buf.Bytes())
		if err != nil || len(back) != len(cs) {
			t.Fatalf("round trip: %d commits, %v; want %d", len(back), err, len(cs))
		}
		for i := range back {
			if back[i].ID != cs[i].ID || !slices.Equal(back[i].Paths, cs[i].Paths) || back[i].Subject != cs[i].Subject {
				t.Fatalf("round trip of commit %d: %+v, want %+v", i, back[i], cs[i])
			}
		}
	})
}

// FuzzParseFetchHead: never panics; returns only object ids, each the start
// of a line for merging ("<id>\t\t..."), no more than there are lines;
// FETCH_HEAD written for the ids reads back the same.
func FuzzParseFetchHead(f *testing.F) {
	for _, s := range []string{
		fzA + "\t\tbranch 'main' of https://example.com/r\n",
		fzA + "\tnot-for-merge\tbranch 'side' of https://example.com/r\n" + fzB + "\t\tbranch 'main' of ../r\n",
		fzLong + "\t\t'refs/pull/1/head' of x\n",
		"",
		"\n\n",
		fzA + "\t\t",
		fzA + "\t",
		fzA[:39] + "\t\tx\n",
		strings.ToUpper(fzA) + "\t\tx\n",
		"garbage\tgarbage\tgarbage\n",
		fzA + "\t\tx\r\n" + fzB + "\t\ty\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ids := git.ParseFetchHead(data)
		if len(ids) > strings.Count(string(data), "\n")+1 {
			t.Fatalf("%d ids from %d lines", len(ids), strings.Count(string(data), "\n")+1)
		}
		for _, id := range ids {
			if !git.IsObjectID(id) {
				t.Fatalf("returned %q", id)
			}
			if !strings.HasPrefix(string(data), id+"\t\t") && !strings.Contains(string(data), "\n"+id+"\t\t") {
				t.Fatalf("%q is not the start of a line for merging", id)
			}
		}
		var buf bytes.Buffer
		for _, id := range ids {
			fmt.Fprintf(&buf, "%s\tnot-for-merge\tbranch 'x' of y\n%s\t\tbranch 'z' of y\n", id, id)
		}
		if back := git.ParseFetchHead(buf.Bytes()); !slices.Equal(back, ids) {
			t.Fatalf("round trip: %q, want %q", back, ids)
		}
	})
}

// FuzzParseIdentEmail: never panics; what it finds sits between a '<' and a
// '>' of the ident; an ident that git could print (no '<' or '>' in the
// address) gives its address back.
func FuzzParseIdentEmail(f *testing.F) {
	for _, s := range []string{
		"A U Thor <author@example.com> 1700000000 +0000\n",
		"<a@b.example> 1 -0700",
		"No Mail <> 1700000000 +0000",
		"Zoë <zoë@exämple.com> 1 +0000",
		"",
		"Name only",
		"Name <a@b.example 1 +0000",
		"Name > <a@b.example",
		"a <b<c> d> 1",
		"\xff<\xfe>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ident string) {
		email, ok := git.ParseIdentEmail(ident)
		if !ok {
			if email != "" {
				t.Fatalf("%q with ok false", email)
			}
			open := strings.IndexByte(ident, '<')
			if open >= 0 && strings.LastIndexByte(ident, '>') > open {
				t.Fatalf("no address found in %q", ident)
			}
		} else if !strings.Contains(ident, "<"+email+">") {
			t.Fatalf("%q is not between < and > in %q", email, ident)
		}
		addr := strings.NewReplacer("<", "", ">", "", "\n", "").Replace(ident)
		name := "N"
		if got, ok := git.ParseIdentEmail(name + " <" + addr + "> 1700000000 +0000\n"); !ok || got != addr {
			t.Fatalf("ParseIdentEmail of the address %q = %q, %v", addr, got, ok)
		}
	})
}

// rawRecord prints one entry as `--raw -z` does.
func rawRecord(e git.RawEntry) string {
	mode, id := e.Mode, e.ID
	if id == "" {
		mode, id = "000000", strings.Repeat("0", 40)
	}
	return fmt.Sprintf(":100644 %s %s %s M\x00%s\x00", mode, strings.Repeat("1", 40), id, e.Path)
}

// FuzzParseRaw: never panics; every entry has a path it read after a raw
// record, and a mode and id both set or both empty (a deletion); printed
// back the way git prints them, the entries read back the same.
func FuzzParseRaw(f *testing.F) {
	for _, s := range []string{
		":100644 100644 " + fzA + " " + fzB + " M\x00store/a\x00",
		"\n:000000 100644 " + strings.Repeat("0", 40) + " " + fzB + " A\x00new file\x00:100644 000000 " + fzA + " " + strings.Repeat("0", 40) + " D\x00gone\x00",
		fzA + "\x00:100644 100644 " + fzA + " " + fzB + " M\x00" + fzA + "\x00",
		":100644 100644 x y M\x00p\x00",
		":100644",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		es := git.ParseRaw(out)
		var buf strings.Builder
		for _, e := range es {
			if (e.Mode == "") != (e.ID == "") {
				t.Fatalf("half a deletion: %+v", e)
			}
			if strings.ContainsAny(e.Mode+e.ID, " \x00") {
				t.Fatalf("a field runs over: %+v", e)
			}
			buf.WriteString(rawRecord(e))
		}
		back := git.ParseRaw([]byte(buf.String()))
		if !slices.Equal(back, es) {
			t.Fatalf("round trip: %+v, want %+v", back, es)
		}
	})
}

// FuzzParseTreeDiffs: never panics; errors are one line; a parse that
// succeeds has one map for each pair asked about.
func FuzzParseTreeDiffs(f *testing.F) {
	f.Add([]byte(fzA+"\x00:100644 100644 "+fzA+" "+fzB+" M\x00r\x00"+fzB+"\x00"), 2)
	f.Add([]byte(fzA+"\x00"+fzA+"\x00"), 2)
	f.Add([]byte(":100644 100644 "+fzA+" "+fzB+" M\x00r\x00"), 1)
	f.Add([]byte(fzA+"\x00:100644\x00"), 1)
	f.Fuzz(func(t *testing.T, out []byte, n int) {
		ms, err := git.ParseTreeDiffsForTest(git.SplitNUL(out), n)
		if err != nil {
			if ms != nil {
				t.Fatalf("%d maps with error %v", len(ms), err)
			}
			oneLine(t, err)
			return
		}
		if len(ms) != n {
			t.Fatalf("%d maps for %d pairs", len(ms), n)
		}
	})
}

// FuzzParseGraph: never panics; errors are one line; every node it returns
// is an object id with parents that are; printed back, it reads the same.
func FuzzParseGraph(f *testing.F) {
	f.Add([]byte(fzA + " 1700000000\n" + fzB + " 1700000001 " + fzA + "\n" + fzM + " 1700000002 " + fzA + " " + fzB + "\n"))
	f.Add([]byte(fzA + " x\n"))
	f.Add([]byte(fzA + " 1 HEAD\n"))
	f.Add([]byte(fzA + "\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		g, err := git.ParseGraph(out)
		if err != nil {
			if g != nil {
				t.Fatalf("a graph with error %v", err)
			}
			oneLine(t, err)
			return
		}
		var buf strings.Builder
		for id, n := range g {
			if !git.IsObjectID(id) || slices.ContainsFunc(n.Parents, func(p string) bool { return !git.IsObjectID(p) }) {
				t.Fatalf("accepted %q %+v", id, n)
			}
			fmt.Fprintf(&buf, "%s %d %s\n", id, n.Time, strings.Join(n.Parents, " "))
		}
		back, err := git.ParseGraph([]byte(buf.String()))
		if err != nil || len(back) != len(g) {
			t.Fatalf("round trip: %d nodes, %v; want %d", len(back), err, len(g))
		}
	})
}
