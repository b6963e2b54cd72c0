#!/bin/sh
# Build oxygen from this source tree and wire its git hooks into a clone.
# Running it twice changes nothing.
set -eu

usage() {
	cat <<'USAGE'
usage: ./install.sh [--prefix DIR] [--repo DIR]

Builds oxygen into DIR (default: /usr/local/bin if writable, else
~/.local/bin), then installs its hooks in the git clone you run this in,
or in --repo DIR.
USAGE
}

prefix=""
repo=""
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) [ $# -ge 2 ] || { usage >&2; exit 2; }; prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#--prefix=}; shift ;;
	--repo) [ $# -ge 2 ] || { usage >&2; exit 2; }; repo=$2; shift 2 ;;
	--repo=*) repo=${1#--repo=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done

command -v go >/dev/null 2>&1 || { echo "install.sh: building oxygen needs Go (1.26 or later) on PATH" >&2; exit 2; }
src=$(cd "$(dirname "$0")" && pwd)
if [ -z "$prefix" ]; then
	if [ -w /usr/local/bin ]; then prefix=/usr/local/bin; else prefix="$HOME/.local/bin"; fi
fi
mkdir -p "$prefix"

version=$(git -C "$src" describe --always --dirty 2>/dev/null || echo devel)
tmp="$prefix/.oxygen.$$"
trap 'rm -f "$tmp"' EXIT
# Static (no cgo: nothing of it is used): every commit starts oxygen, and
# loading libc costs each start almost a millisecond. oxygen-mcp is the MCP
# server (oxygen mcp hands over to it), kept out of the binary git runs.
for cmd in oxygen oxygen-mcp; do
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/oxygen-protocol/oxygen/internal/cli.version=$version" -o "$tmp" "./cmd/$cmd")
	mv -f "$tmp" "$prefix/$cmd"
done
echo "built $prefix/oxygen and $prefix/oxygen-mcp ($version)"
case ":$PATH:" in
*":$prefix:"*) ;;
*) echo "note: $prefix is not on your PATH; add it (export PATH=\"$prefix:\$PATH\") so that git's hooks find oxygen" ;;
esac

if [ -n "$repo" ]; then
	"$prefix/oxygen" install --repo "$repo"
elif git rev-parse --git-dir >/dev/null 2>&1; then
	"$prefix/oxygen" install
else
	echo "not inside a git clone: no hooks installed (run oxygen install in your clone, or pass --repo DIR)"
fi
