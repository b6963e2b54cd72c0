package git

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A proc-receive hook (git 2.29 and later) takes the ref updates of a push
// that receive-pack hands it, for the refs receive.procReceiveRefs names,
// and answers for each: receive-pack moves none of them itself. It talks
// in pkt-lines (four hex digits of length, then the payload; 0000 ends a
// section), as git's githooks(5) describes.

// ProcReceiveUpdate is one ref update handed to a proc-receive hook.
type ProcReceiveUpdate struct {
	Old, New, Ref string
}

// ProcReceiveAnswer is the hook's word on one update: ok, or refused with
// a reason; where ok, the ref it moved instead, from what to what.
type ProcReceiveAnswer struct {
	Ref      string // the update's own ref
	Refused  string // "": ok
	Moved    string // the ref moved instead, if any
	Old, New string // Moved's ids before and after
}

// maxProcReceive bounds what a push hands the hook: updates and options
// each (a push of more is refused whole; receive-pack reads the answer).
const maxProcReceive = 10000

// ProcReceive is what receive-pack hands the hook: the updates, the push
// options, and whether the push is atomic (all or none of its updates).
type ProcReceive struct {
	Updates []ProcReceiveUpdate
	Options []string
	Atomic  bool
}

// ReadProcReceive speaks the hook's side of the protocol up to the
// answers: it agrees on version 1 with push options, then reads the
// updates and the push options.
func ReadProcReceive(r *bufio.Reader, w io.Writer) (ProcReceive, error) {
	var pr ProcReceive
	hello, err := readSection(r)
	if err != nil {
		return pr, err
	}
	version, features, _ := strings.Cut(strings.Join(hello, " "), "\x00")
	if version != "version=1" {
		return pr, fmt.Errorf("proc-receive: receive-pack asks for %q; this oxygen speaks version=1", firstLine(version))
	}
	// receive-pack offers push options where receive.advertisePushOptions
	// is on; then, once the hook takes them too, it sends them always. It
	// says atomic where the pusher asked for an atomic push.
	options := slices.Contains(strings.Fields(features), "push-options")
	pr.Atomic = slices.Contains(strings.Fields(features), "atomic")
	if err := writePkt(w, "version=1\x00push-options"); err != nil {
		return pr, err
	}
	if _, err := io.WriteString(w, "0000"); err != nil {
		return pr, err
	}
	lines, err := readSection(r)
	if err != nil {
		return pr, err
	}
	for _, l := range lines {
		f := strings.Split(l, " ")
		if len(f) != 3 || !IsObjectID(f[0]) || !IsObjectID(f[1]) || f[2] == "" {
			return pr, fmt.Errorf("proc-receive: want \"<old> <new> <ref>\", got %q", l)
		}
		pr.Updates = append(pr.Updates, ProcReceiveUpdate{Old: f[0], New: f[1], Ref: f[2]})
	}
	if options {
		if pr.Options, err = readSection(r); err != nil {
			return pr, err
		}
	}
	return pr, nil
}

// WriteProcReceive writes the hook's answers, one for each update, in
// their order.
func WriteProcReceive(w io.Writer, answers []ProcReceiveAnswer) error {
	for _, a := range answers {
		lines := []string{"ok " + a.Ref}
		switch {
		case a.Refused != "":
			lines = []string{"ng " + a.Ref + " " + OneLineReason(a.Refused)}
		case a.Moved != "":
			lines = append(lines, "option refname "+a.Moved, "option old-oid "+a.Old, "option new-oid "+a.New)
		}
		for _, l := range lines {
			if err := writePkt(w, l); err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, "0000")
	return err
}

// OneLineReason makes a refusal fit a pkt-line of the protocol: one line,
// at most a few hundred bytes.
func OneLineReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:497] + "..."
	}
	return s
}

// readSection reads pkt-lines up to a flush packet, each without the
// line feed that ends it.
func readSection(r *bufio.Reader) ([]string, error) {
	var out []string
	for {
		var head [4]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, fmt.Errorf("proc-receive: %w", unexpectedEOF(err))
		}
		n, err := strconv.ParseUint(string(head[:]), 16, 16)
		switch {
		case err != nil:
			return nil, fmt.Errorf("proc-receive: bad pkt-line length %q", head[:])
		case n == 0:
			return out, nil
		case n < 4:
			return nil, fmt.Errorf("proc-receive: bad pkt-line length %q", head[:])
		case len(out) == maxProcReceive:
			return nil, fmt.Errorf("proc-receive: more than %d lines in one section", maxProcReceive)
		}
		b := make([]byte, n-4)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("proc-receive: %w", unexpectedEOF(err))
		}
		out = append(out, strings.TrimSuffix(string(b), "\n"))
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writePkt writes s as one pkt-line.
func writePkt(w io.Writer, s string) error {
	if len(s)+5 > 65520 {
		return fmt.Errorf("proc-receive: a line of %d bytes is too long for a pkt-line", len(s))
	}
	_, err := fmt.Fprintf(w, "%04x%s\n", len(s)+5, s)
	return err
}
