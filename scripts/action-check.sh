#!/bin/sh
# The oxygen GitHub action's check (action.yml runs it; a testscript runs it
# against a real repository with the variables Actions sets): judge every
# commit of the pull request, or of the push, with oxygen check --range, and
# with format sarif also write a SARIF file for code scanning.
#
# Inputs, from action.yml: OXYGEN_RANGE (A..B, wins over the rest),
# OXYGEN_BASE, OXYGEN_FORMAT (text or sarif), OXYGEN_SARIF (the file), and
# the event's own OXYGEN_EVENT_BASE and OXYGEN_EVENT_HEAD (a pull request's
# base and head, or a push's before and after). Exit: oxygen's (0 allowed,
# 1 refused, 2 error).
set -u

fail() { echo "oxygen action: $*" >&2; exit 2; }

format=${OXYGEN_FORMAT:-text}
case $format in
text | sarif) ;;
*) fail "format \"$format\": want text or sarif" ;;
esac

range=${OXYGEN_RANGE:-}
if [ -z "$range" ]; then
	base=${OXYGEN_BASE:-${OXYGEN_EVENT_BASE:-}}
	head=${OXYGEN_EVENT_HEAD:-HEAD}
	# A push that creates a branch has no "before" (all zeros): judge what
	# the default branch does not have.
	case $base in
	"" | *[!0]*) ;;
	*) base= ;;
	esac
	if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
		base=origin/$GITHUB_BASE_REF
	fi
	if [ -z "$base" ] && git rev-parse -q --verify origin/HEAD >/dev/null; then
		base=origin/HEAD
	fi
	[ -n "$base" ] || fail "cannot tell which commits to judge: set the action's range input (A..B) or base"
	# A shallow clone (actions/checkout's default fetch-depth: 1) lacks the
	# base: fetch the rest of the history once.
	if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
		if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
			echo "oxygen action: the clone is shallow; fetching its history (set fetch-depth: 0 on actions/checkout to skip this)" >&2
			git fetch -q --no-tags --unshallow origin || fail "git fetch --unshallow failed"
		fi
		git rev-parse -q --verify "$base^{commit}" >/dev/null ||
			fail "the base $base is not in this clone: check out with fetch-depth: 0"
	fi
	range=$base..$head
fi

echo "oxygen check --range $range"
oxygen check --range "$range"
code=$?
[ "$code" -le 1 ] || exit "$code"

if [ "$format" = sarif ]; then
	sarif=${OXYGEN_SARIF:-oxygen.sarif}
	oxygen check --range "$range" --format sarif >"$sarif"
	[ $? -le 1 ] || fail "could not write $sarif"
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "sarif-file=$sarif" >>"$GITHUB_OUTPUT"
	fi
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	if [ "$code" = 0 ]; then
		echo "oxygen: every commit of $range keeps the protocol" >>"$GITHUB_STEP_SUMMARY"
	else
		echo "oxygen: commits of $range were refused; the job log names each problem and its fix" >>"$GITHUB_STEP_SUMMARY"
	fi
fi
exit "$code"
