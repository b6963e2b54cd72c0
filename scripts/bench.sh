#!/usr/bin/env bash
# bench.sh: measure oxygen against git on a synthetic repository (SPEC.md
# section 8, issue 6). Run from anywhere in a clone; needs Go, git and bash
# (hyperfine, if installed, does the timing; otherwise a loop and a median).
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench.sh [--files N] [--commits N] [--events N] [--mix KIND] [--runs N]
                        [--prior N] [--clones N] [--rounds N] [--acts N]
                        [--warmup N] [--checkout] [--keep] [--no-hyperfine]

Builds oxygen and a synthetic repository (git fast-import: N files in a deep
tree holding the reference policy's shared paths and many ordinary source
directories, then N commits of a few files each by ada@builder.example, made
under leases claimed beforehand), stages 3 shared and 2 ordinary files, and
prints, side by side in one run, the median wall time of:

  oxygen check --staged               vs  git diff --cached --name-only  (target <= 1.5x)
  oxygen check --range HEAD~C..HEAD   vs  git log --name-only HEAD~C..HEAD  (target <= 2x)
  oxygen claim RESOURCE  (local store)                                   (target < 10 ms)
  oxygen release RESOURCE (local store)                                  (target < 10 ms)
  oxygen policy lint                  vs  git ls-files                   (target <= 3x)
  git commit (oxygen's pre-commit)    vs  git commit --no-verify
                                      (target <= 1.3x; <= 1.25x from 100,000 files)

Options:
  --files N       files in the repository (default 100000)
  --commits N     commits after the initial one (default 1000)
  --events N[,N...]
                  events already in the store before the bench's own claims
                  (default 0): a fleet's work over the month before the
                  commits, as a long-lived clone has (--history: the same).
                  A list (0,10000,100000) times the store's rows at each
                  size in the same run and prints how they grow, with the
                  aged store's targets at the largest (check --staged
                  <= 1.2x, check --range <= 1.5x); the main table and the
                  commit row use the largest
  --mix KIND      what those events are: leases (claims and releases) or
                  mixed (also capsules assigned and done, missives sent and
                  acknowledged: 6 / 2 / 2 in 10; default leases)
  --runs N        timed runs per command (default 30)
  --warmup N      untimed runs first (default 3)
  --checkout      also write the work tree (neither side of any measurement
                  reads it; by default only the index is filled, which on a
                  slow disk saves from seconds to minutes at 100,000 files)
  --prior N       also time claim + release through the git store (a local
                  bare remote with oxygen's pre-receive, and the same behind
                  git daemon on 127.0.0.1) after 10 and after N prior state
                  commits, the last holding N mixed events (target <= 1.2x)
  --clones N[,N...]
                  also run a fleet: N clones of one such remote, each
                  claiming its own resource at once, then releasing it, for
                  --rounds rounds (default 10), with a remote that decides
                  the acts (store.sequenced) and with one where each clone
                  decides its own; then all N claim one resource at once
                  (exactly one must win). Prints failures, latency
                  p50/p90/max, acts per second and how many pushes each act
                  took (target for 8, sequenced: 0 failures, p90 < 300 ms);
                  beside it, the sequenced acts with each clone on its own
                  copy of the remote (no ref shared: the floor of any
                  design), and git's own fetch, commit and push; a list
                  (2,8,32) runs a fleet of each size
  --acts N        also run N acts (claim, release) one after another in one
                  clone of the git store and report its .git size after
                  (target < 50 MB for 10,000)
  --keep          keep the temporary directory (its path is printed)
  --no-hyperfine  time with the built-in loop even if hyperfine is installed
  -h, --help      this text

Exit status: 0 when every target is met, 1 when one is missed, 2 on error.
EOF
}

files=100000 commits=1000 events=0 mix=leases prior=0 clones=0 rounds=10 acts=0 runs=30 warmup=3 keep=0 use_hyperfine=1 checkout=0
while [ $# -gt 0 ]; do
	case "$1" in
	--files) files=${2:?--files needs a number}; shift 2 ;;
	--files=*) files=${1#*=}; shift ;;
	--commits) commits=${2:?--commits needs a number}; shift 2 ;;
	--commits=*) commits=${1#*=}; shift ;;
	--events | --history) events=${2:?$1 needs a number or a list}; shift 2 ;;
	--events=* | --history=*) events=${1#*=}; shift ;;
	--prior) prior=${2:?--prior needs a number}; shift 2 ;;
	--prior=*) prior=${1#*=}; shift ;;
	--clones) clones=${2:?--clones needs a number or a list}; shift 2 ;;
	--clones=*) clones=${1#*=}; shift ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
	--rounds=*) rounds=${1#*=}; shift ;;
	--acts) acts=${2:?--acts needs a number}; shift 2 ;;
	--acts=*) acts=${1#*=}; shift ;;
	--mix) mix=${2:?--mix needs leases or mixed}; shift 2 ;;
	--mix=*) mix=${1#*=}; shift ;;
	--runs) runs=${2:?--runs needs a number}; shift 2 ;;
	--runs=*) runs=${1#*=}; shift ;;
	--warmup) warmup=${2:?--warmup needs a number}; shift 2 ;;
	--warmup=*) warmup=${1#*=}; shift ;;
	--keep) keep=1; shift ;;
	--checkout) checkout=1; shift ;;
	--no-hyperfine) use_hyperfine=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
IFS=, read -r -a fleets <<<"$clones"
for n in "${fleets[@]}"; do
	case $n in '' | *[!0-9]*) echo "bench.sh: --clones wants whole numbers separated by commas, got '$clones'" >&2; exit 2 ;; esac
done
clones=0 # the largest fleet
for n in "${fleets[@]}"; do clones=$((n > clones ? n : clones)); done
for v in files commits runs warmup prior clones rounds acts; do
	case ${!v} in '' | *[!0-9]*) echo "bench.sh: --$v wants a whole number, got '${!v}'" >&2; exit 2 ;; esac
done
IFS=, read -r -a sizes <<<"$events"
for n in "${sizes[@]}"; do
	case $n in '' | *[!0-9]*) echo "bench.sh: --events wants whole numbers separated by commas, got '$events'" >&2; exit 2 ;; esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(0)
events=${sizes[${#sizes[@]} - 1]} # the main table's
case $mix in leases | mixed) ;; *) echo "bench.sh: --mix wants leases or mixed, got '$mix'" >&2; exit 2 ;; esac
if [ "$files" -lt 1500 ] || [ "$commits" -lt 1 ] || [ "$runs" -lt 1 ]; then
	echo "bench.sh: want --files >= 1500, --commits >= 1, --runs >= 1" >&2
	exit 2
fi
if [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
	echo "bench.sh: needs bash 4 or later" >&2
	exit 2
fi

die() { echo "bench.sh: $*" >&2; exit 2; }
say() { printf '%s\n' "$*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -f "$root/go.mod" ] && [ -f "$root/examples/reference/resources.yaml" ] || die "cannot find the repository root above $0"
command -v git >/dev/null || die "git is not on PATH"
command -v go >/dev/null || die "go is not on PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oxygen-bench.XXXXXX")
cleanup() {
	if [ "$keep" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # so that cleanup runs
say "temporary directory: $tmp$([ "$keep" = 1 ] && echo ' (kept: --keep)')"

# stamp: sets $now to the clock in microseconds, without a fork where bash
# has EPOCHREALTIME (5.0 and later).
stamp() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		now=${EPOCHREALTIME/[.,]/}
	else
		now=$(($(date +%s%N) / 1000))
	fi
}
stamp
phase_start=$now
phase() {
	stamp
	say "  $1: $(((now - phase_start) / 1000)) ms"
	phase_start=$now
}

# 1. Build, with the caller's Go environment (its module and build caches),
# static as install.sh builds it.
say "building oxygen"
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/oxygen" ./cmd/oxygen && go build -o "$tmp/benchgen" ./internal/benchgen)
oxy=$tmp/oxygen
phase "go build"

# From here on git is isolated: no system or user configuration, no hooks,
# nothing exported by a git that might be running this script.
unset $(git rev-parse --local-env-vars) 2>/dev/null || true
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_COMMITTER_DATE GIT_CONFIG_GLOBAL GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT OXYGEN OXYGEN_DOMAIN \
	GIT_TRACE GIT_TRACE2 GIT_TRACE2_EVENT GIT_TRACE2_PERF GITHUB_ACTIONS 2>/dev/null || true
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config GIT_CONFIG_NOSYSTEM=1 \
	GIT_TERMINAL_PROMPT=0 LC_ALL=C TZ=UTC
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
git config --global user.email ada@builder.example
git config --global user.name "Ada Builder"
git config --global init.defaultBranch main
git config --global gc.auto 0
git config --global maintenance.auto false
git config --global advice.detachedHead false

repo=$tmp/repo
git init -q "$repo"
cd "$repo"
mkdir -p "$tmp/no-hooks"
git config core.hooksPath "$tmp/no-hooks" # nothing runs during generation

# 2. The tree. Areas are top-level directories (some two or three levels
# deep); file i lives in area i % A, at index j = i / A within it, under
# three more levels of directories: a deep tree of about 12 files a folder.
# Three kinds of area: the reference policy's shared paths (the first 13
# lie outside every other domain's core, so builder may change them under a
# lease alone); other domains' core surfaces, in the tree but never changed;
# ordinary code, with builder's own core.
touch_shared=(
	store/blobs store/derived backups index/migrations index/rebuild daemons cron services
	run/locks distro image iso deploy/install
)
shared_areas=(
	"${touch_shared[@]}" access/users access/permissions access/ssh secrets/policy
	quarantine/rules access/boundaries docs/agents tools/plan-registry/semantics
	.bridges/protocols/conventions
)
foreign_areas=(
	docs/guides docs/api tools/plan-registry/cli ui/components ui/pages web/static contracts/ui
	monitoring/probes health/checks incidents alerts secrets/vault access/docs quarantine/queue
)
# The resources of touch_shared: claimed before the commits are made.
# identity stays free for the claim/release measurement.
claimed=(storage index execution deployment)
free_resource=identity
plain_areas=(runtime/core deploy/k8s ops/playbooks store/tmp index/tools)
for a in api core net db auth cache cli sched metrics blobclient queue search; do
	for b in impl util test; do plain_areas+=("src/$a/$b"); done
done
for a in crypto json yaml http log fs rpc mathx text timex; do
	for b in src test; do plain_areas+=("lib/$a/$b"); done
done
for a in tools/gen tools/lint cmd/server cmd/worker cmd/admin internal/config internal/plugin \
	third_party/zlib third_party/sqlite examples assets/img assets/css bench; do
	plain_areas+=("$a")
done
areas=("${shared_areas[@]}" "${foreign_areas[@]}" "${plain_areas[@]}")
A=${#areas[@]}
P=$((${#shared_areas[@]} + ${#foreign_areas[@]})) # areas P.. are ordinary
exts=(go py ts md yaml c)

# path_of I: sets $p to file I's path.
path_of() {
	local a=$(($1 % A)) j=$(($1 / A))
	p="${areas[a]}/g$((j / 432))/m$((j / 72 % 6))/k$((j / 12 % 6))/f$j.${exts[j % 6]}"
}

# The committed policy: the reference one with room for the claims below.
policy_text=
while IFS= read -r line || [ -n "$line" ]; do
	if [[ $line =~ ^([[:space:]]*leases_per_domain:[[:space:]]*)[0-9]+(.*)$ ]]; then
		line="${BASH_REMATCH[1]}8${BASH_REMATCH[2]}"
	fi
	policy_text+="$line"$'\n'
done <"$root/examples/reference/resources.yaml"
[[ $policy_text == *"leases_per_domain: 8"* ]] || die "could not raise leases_per_domain in resources.yaml"

# Literal shared files named by the reference policy.
literal_files=(
	tools/plan-registry/schema.yaml .bridges/protocols/signal-format.yaml docs/conventions/units.md
	index/autofile.sqlite scripts/orchestrate README.md go.mod Makefile
)

t_root=$(($(date +%s) - 3600))
gen_root() {
	local i data
	printf 'commit refs/heads/main\ncommitter Ada Builder <ada@builder.example> %d +0000\ndata 15\ninitial import\n' "$t_root"
	data=$policy_text
	printf 'M 100644 inline resources.yaml\ndata %d\n%s\n' "${#data}" "$data"
	for p in "${literal_files[@]}"; do
		data="# $p"$'\n'
		printf 'M 100644 inline %s\ndata %d\n%s\n' "$p" "${#data}" "$data"
	done
	for ((i = 0; i < files; i++)); do
		path_of "$i"
		data="// $p: file $i of the synthetic tree"$'\n'
		printf 'M 100644 inline %s\ndata %d\n%s\n' "$p" "${#data}" "$data"
	done
}
say "generating $files files"
gen_root | git fast-import --quiet
phase "initial commit (fast-import)"

# 3. Leases: a store for each size asked, kept aside in $tmp/stores/N and
# moved into the repository to be timed. First, if asked, an aged store: N
# events of a fleet's work, decided and recorded through the store's own
# code in one process (internal/benchgen), all over a day before the
# commits. Then the builder domain claims every resource the commits
# touch, for 24 hours, before any of them is made.
printf '%s' "$policy_text" >"$tmp/policy.yaml"
for n in "${sizes[@]}"; do
	if [ "$n" -gt 0 ]; then
		"$tmp/benchgen" -root "$repo" -policy "$tmp/policy.yaml" -events "$n" -mix "$mix" -end $((t_root - 86400)) >&2 || die "benchgen failed"
		phase "aged store ($n $mix events)"
	fi
	for r in "${claimed[@]}"; do
		"$oxy" claim "$r" --ttl 24h --reason bench >/dev/null || die "oxygen claim $r failed"
	done
	phase "claims (${#claimed[@]})"
	mkdir -p "$tmp/stores/$n"
	mv .substrate "$tmp/stores/$n/"
done
# use_store N: the store of N events in place.
use_store() {
	rm -rf .substrate
	cp -a "$tmp/stores/$1/.substrate" .
}
use_store "$events"
t_commits=$(($(date +%s) + 1))

# 4. The commits: 3 to 6 files each, one of them shared in about a third
# (from the claimed resources' areas), the others ordinary.
rand() { r=$(((RANDOM << 15 | RANDOM) % $1)); } # sets $r
gen_commits() {
	local c k n at data i a per
	RANDOM=42
	for ((c = 1; c <= commits; c++)); do
		# Within 20 s after the claims: under the leases, and never more than
		# clock_skew ahead of the gates' clocks (future-date), however soon
		# they judge.
		at=$((t_commits + c * 20 / commits))
		rand 4
		n=$((3 + r))
		printf 'commit refs/heads/main\ncommitter Ada Builder <ada@builder.example> %d +0000\n' "$at"
		data="change $c"
		printf 'data %d\n%s\n' "${#data}" "$data"
		[ "$c" = 1 ] && printf 'from refs/heads/main^0\n'
		rand 3
		if [ "$r" = 0 ]; then # one shared file
			rand ${#touch_shared[@]}
			a=$r
			per=$(((files - a + A - 1) / A))
			rand "$per"
			path_of $((r * A + a))
			data="// $p: change $c"$'\n'
			printf 'M 100644 inline %s\ndata %d\n%s\n' "$p" "${#data}" "$data"
			n=$((n - 1))
		fi
		for ((k = 0; k < n; k++)); do
			# an ordinary file: redraw until the pick lands in an ordinary area
			while :; do
				rand "$files"
				((r % A >= P)) && break
			done
			path_of "$r"
			if [ "$k" = 0 ] && ((c % 10 == 0)); then
				p="${p%/*}/new$c.go" # now and then a new file
			fi
			data="// $p: change $c"$'\n'
			printf 'M 100644 inline %s\ndata %d\n%s\n' "$p" "${#data}" "$data"
		done
	done
}
say "generating $commits commits"
gen_commits | git fast-import --quiet
phase "commits (fast-import)"

if [ "$checkout" = 1 ]; then
	git reset -q --hard main
	phase "checkout of $((files + ${#literal_files[@]} + 1)) files"
else
	git read-tree main # the index as a checkout leaves it, without the files
	phase "index of $((files + ${#literal_files[@]} + 1)) files (read-tree)"
fi

# 5. The staged change: 3 shared paths (storage, execution, index), 2 not.
stage=()
for a in 0 5 3; do # store/blobs, daemons, index/migrations
	path_of "$a"
	stage+=("$p")
done
for i in $((P + 5 + 7 * A)) $((P + 20 + 11 * A)); do # src/..., lib/...
	path_of "$i"
	stage+=("$p")
done
for p in "${stage[@]}"; do
	if [ "$checkout" = 1 ]; then
		echo "// staged edit" >>"$p"
		git add -- "$p"
	else
		blob=$({ git cat-file blob "main:$p" && echo "// staged edit"; } | git hash-object -w --stdin)
		git update-index --cacheinfo "100644,$blob,$p"
	fi
done
[ "$(git diff --cached --name-only | wc -l)" -eq 5 ] || die "expected 5 staged paths"

# Everything must pass, or the timings measure a refusal.
"$oxy" check --staged >/dev/null || die "oxygen check --staged refused the staged set (see above)"
rng="HEAD~$commits..HEAD"
out=$("$oxy" check --range "$rng") || die "oxygen check --range $rng found violations"
say "  $out"
tracked=$(git ls-files | wc -l)
logged=0
[ -f .substrate/state/events.jsonl ] && logged=$(wc -l <.substrate/state/events.jsonl)
say "repository: $tracked files, $(git rev-list --count HEAD) commits, $(du -sk .git | cut -f1) KiB in .git, index $(($(wc -c <.git/index) / 1024)) KiB, $logged store events ($mix); staged: ${stage[*]}"

# 6. Timing. median_ms NAME COMMAND... records the median of runs in ms.
declare -A median
if [ "$use_hyperfine" = 1 ] && command -v hyperfine >/dev/null; then
	timer="hyperfine $(hyperfine --version | cut -d' ' -f2), --warmup $warmup --runs $runs, no shell"
else
	use_hyperfine=0
	timer="bash loop (commands interleaved), $warmup warm-up + $runs runs, median"
fi
say "timing with $timer"

# sec_to_us 0.0123456: seconds as hyperfine prints them, to microseconds.
sec_to_us() {
	local int=${1%%.*} frac=
	[[ $1 == *.* ]] && frac=${1#*.}
	frac=${frac}000000
	echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}
# ms US: microseconds as milliseconds with two decimals.
ms() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# quote ARGS: one string for hyperfine -N (POSIX-shell word splitting).
quote() {
	local out= w
	for w in "$@"; do out+=" $(printf '%q' "$w")"; done
	printf '%s' "${out# }"
}

# bench KEY [--prepare CMD] [--any-exit] -- NAME CMD [NAME CMD]
# CMD is a quoted command line; NAME has no comma (hyperfine's CSV). The first command's median (microseconds)
# lands in median[KEY/oxygen], the second's in median[KEY/git]. --any-exit:
# the exit code does not matter (policy lint exits 1 with findings).
bench() {
	local key=$1 prepare= anyexit=0 csv=$tmp/bench.csv
	shift
	if [ "$1" = --prepare ]; then prepare=$2; shift 2; fi
	if [ "$1" = --any-exit ]; then anyexit=1; shift; fi
	[ "$1" = -- ] && shift
	if [ "$use_hyperfine" = 1 ]; then
		local args=(-N --style basic --warmup "$warmup" --runs "$runs" --export-csv "$csv")
		[ -n "$prepare" ] && args+=(--prepare "$prepare")
		[ "$anyexit" = 1 ] && args+=(--ignore-failure)
		while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
		hyperfine "${args[@]}" >&2
		local name mean stddev med rest role=(oxygen git) i=0
		while IFS=, read -r name mean stddev med rest; do
			[ "$name" = command ] && continue
			median[$key/${role[i]}]=$(sec_to_us "$med")
			i=$((i + 1))
		done <"$csv"
		return
	fi
	# No hyperfine: run the commands in turn (oxygen, git, oxygen, git, ...)
	# so that both see the same background load, and take each one's median.
	local names=() cmds=() roles=(oxygen git) k i t0 samples_0=() samples_1=()
	while [ $# -gt 0 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	for ((k = 0; k < warmup + runs; k++)); do
		for i in "${!cmds[@]}"; do
			[ -n "$prepare" ] && { eval "$prepare" >/dev/null 2>&1 || die "failed: $prepare"; }
			stamp
			t0=$now
			eval "${cmds[i]}" >/dev/null 2>&1 || [ "$anyexit" = 1 ] || die "failed: ${cmds[i]}"
			stamp
			((k >= warmup)) && eval "samples_$i+=($((now - t0)))"
		done
	done
	for i in "${!cmds[@]}"; do
		local sorted n m
		eval 'mapfile -t sorted < <(printf "%s\n" "${samples_'"$i"'[@]}" | sort -n)'
		n=${#sorted[@]}
		if ((n % 2)); then
			m=${sorted[n / 2]}
		else
			m=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
		fi
		median[$key/${roles[i]}]=$m
		say "  ${names[i]}: median $(ms "$m") ms over $n runs"
	done
}

# The store's rows, at each size (the largest last, left in place).
for n in "${sizes[@]}"; do
	use_store "$n"
	"$oxy" check --staged >/dev/null || die "oxygen check --staged refused the staged set at $n events"
	"$oxy" check --range "$rng" >/dev/null || die "oxygen check --range $rng found violations at $n events"
	bench "staged@$n" -- "oxygen check --staged ($n events)" "$(quote "$oxy" check --staged)" \
		"git diff --cached --name-only" "git diff --cached --name-only"
	bench "range@$n" -- "oxygen check --range $rng ($n events)" "$(quote "$oxy" check --range "$rng")" \
		"git log --name-only $rng" "$(quote git log --name-only "$rng")"
	bench "claim@$n" --prepare "$(quote "$oxy" release "$free_resource")" -- \
		"oxygen claim $free_resource ($n events)" "$(quote "$oxy" claim "$free_resource" --ttl 1h)"
	bench "release@$n" --prepare "$(quote "$oxy" claim "$free_resource" --ttl 1h)" -- \
		"oxygen release $free_resource ($n events)" "$(quote "$oxy" release "$free_resource")"
	bench "leases@$n" -- "oxygen leases ($n events)" "$(quote "$oxy" leases)"
	bench "status@$n" -- "oxygen status ($n events)" "$(quote "$oxy" status)"
done
bench lint --any-exit -- "oxygen policy lint" "$(quote "$oxy" policy lint)" \
	"git ls-files" "git ls-files"
# What a commit costs the user: git commit running oxygen's pre-commit hook
# against git commit --no-verify, each committing the staged set onto the
# same parent (--prepare puts main back; the index stays as it is).
export PATH="$tmp:$PATH" # the hooks, and the servers' pre-receive below, run the oxygen built above
"$oxy" install >/dev/null || die "oxygen install failed"
base=$(git rev-parse HEAD)
bench commit --prepare "$(quote git update-ref refs/heads/main "$base")" -- \
	"git commit (oxygen's hook)" "git commit -q -m bench" \
	"git commit --no-verify" "git commit -q --no-verify -m bench"

# 7. The table.
missed=0
row() { # WHAT KEY ratio|abs LIMIT(x100 for a ratio, ms for abs) [AGAINST]
	local what=$1 key=$2 kind=$3 limit=$4 against=${5:-git} o g r ratio=- gms=- verdict target frac
	o=${median[$key/oxygen]}
	if [ "$kind" = ratio ]; then
		g=${median[$key/git]}
		r=$(((o * 100 + g / 2) / g))
		ratio="$((r / 100)).$(printf '%02d' $((r % 100)))x"
		gms=$(ms "$g")
		frac=$(printf '%02d' $((limit % 100)))
		target="<= $((limit / 100)).${frac%0}x $against"
		verdict=PASS
		((o * 100 > limit * g)) && verdict=MISS
	else
		target="< $limit ms"
		verdict=PASS
		((o >= limit * 1000)) && verdict=MISS
	fi
	[ "$verdict" = MISS ] && missed=1
	printf '%-60s %10s %9s %7s  %-14s %s\n' "$what" "$(ms "$o")" "$gms" "$ratio" "$target" "$verdict"
}
echo
load=?
[ -r /proc/loadavg ] && read -r load _ </proc/loadavg
echo "oxygen bench: $tracked files, $commits commits, $logged store events ($mix); $(git --version), $(nproc 2>/dev/null || echo '?') CPUs, load $load; $timer"
printf '%-60s %10s %9s %7s  %-14s %s\n' "oxygen  /  git (same repository, same run)" "oxygen ms" "git ms" "ratio" "target" "result"
row "check --staged  /  git diff --cached --name-only" "staged@$events" ratio 150
row "check --range $rng  /  git log --name-only" "range@$events" ratio 200
row "claim $free_resource (local store)" "claim@$events" abs 10
row "release $free_resource (local store)" "release@$events" abs 10
row "leases (local store)" "leases@$events" abs 10
row "status (local store)" "status@$events" abs 10
row "policy lint  /  git ls-files" lint ratio 300
row "git commit (oxygen's hook)  /  git commit --no-verify" commit ratio $((files >= 100000 ? 125 : 130))
echo "medians of wall time in ms; 5 staged paths (3 shared); the range is judged with no violations"
if [ ${#sizes[@]} -gt 1 ]; then
	# cell KEY: oxygen's median, and its ratio to git's where git ran.
	cell() {
		local o=${median[$1/oxygen]} g=${median[$1/git]:-} r
		if [ -n "$g" ]; then
			r=$(((o * 100 + g / 2) / g))
			printf '%s ms %d.%02dx' "$(ms "$o")" $((r / 100)) $((r % 100))
		else
			printf '%s ms' "$(ms "$o")"
		fi
	}
	echo
	echo "the store's age ($mix events before the bench's claims; same run; ms and ratio to git's same work)"
	printf '%-36s' "events"
	for n in "${sizes[@]}"; do printf ' %20s' "$n"; done
	echo
	for k in staged range claim release leases status; do
		printf '%-36s' "$k"
		for n in "${sizes[@]}"; do printf ' %20s' "$(cell "$k@$n")"; done
		echo
	done
	echo "targets at $events events:"
	row "check --staged  /  git diff --cached --name-only" "staged@$events" ratio 120
	row "check --range $rng  /  git log --name-only" "range@$events" ratio 150
fi

# 8. The git store, if asked: remotes with oxygen's pre-receive, clones of
# them, and the policy above with a domain and a resource for each clone of
# a fleet (d1 claims r1, and so on) and the git store.
[ "$prior" -gt 0 ] || [ "$clones" -gt 0 ] || [ "$acts" -gt 0 ] || exit "$missed"
fleet=$((clones > 0 ? clones : 1))
fleet_policy() { # [sequenced]
	local line i
	while IFS= read -r line; do
		case $line in
		domains:)
			printf '%s\n' "$line"
			for ((i = 1; i <= fleet; i++)); do printf '  d%d:\n    members: ["*@d%d.example"]\n    core: ["fleet/d%d/**"]\n' $i $i $i; done
			;;
		resources:)
			printf '%s\n' "$line"
			for ((i = 1; i <= fleet; i++)); do printf '  r%d:\n    paths: ["fleet/r%d/**"]\n' $i $i; done
			;;
		*"kind: local"*) printf '  kind: git\n%s' "${1:+  sequenced: true
}" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <<<"$policy_text"
}
fleet_policy >"$tmp/fleet-policy.yaml"
fleet_policy sequenced >"$tmp/fleet-policy-seq.yaml"
grep -q 'kind: git' "$tmp/fleet-policy.yaml" || die "could not make the git store's policy"
grep -q 'sequenced: true' "$tmp/fleet-policy-seq.yaml" || die "could not make the sequenced git store's policy"
remotes=$tmp/remotes
mkdir -p "$remotes"

# make_remote NAME [POLICY]: a bare remote with oxygen's hooks and the
# policy (default: the git store's, clones deciding their own acts) on
# main, adopted as the pre-receive wants (under a lease on coordination).
make_remote() {
	local bare=$remotes/$1.git seed=$tmp/seed-$1
	git init -q --bare "$bare"
	"$oxy" install --repo "$bare" >/dev/null || die "oxygen install --repo $bare failed"
	git clone -q "$bare" "$seed" 2>/dev/null
	cp "${2:-$tmp/fleet-policy.yaml}" "$seed/resources.yaml"
	(cd "$seed" && git add resources.yaml && "$oxy" claim coordination >/dev/null &&
		git commit -q -m 'adopt oxygen' && git push -q origin main && "$oxy" release coordination >/dev/null) ||
		die "could not adopt oxygen on $bare"
}

# age_remote NAME N: N more state commits, as a long-lived remote has: N-1
# small ones, then one holding N mixed events and the records they leave
# (internal/benchgen). Only the last one's content is read by anything
# that follows (a fetch reads the tip; the server verifies new commits).
age_remote() {
	local bare=$remotes/$1.git n=$2 st=$tmp/aged-$1 k path
	mkdir -p "$st"
	"$tmp/benchgen" -root "$st" -policy "$tmp/fleet-policy.yaml" -events "$n" -mix mixed -end $(($(date +%s) - 86400)) >&2 ||
		die "benchgen failed"
	{
		printf 'commit refs/oxygen/state\ncommitter oxygen <bench@builder.example> %d +0000\ndata 6\nfiller\nfrom refs/oxygen/state^0\n' "$t_root"
		printf 'M 100644 inline events.jsonl\ndata 2\n0\n\n'
		for ((k = 1; k < n - 1; k++)); do
			printf 'commit refs/oxygen/state\ncommitter oxygen <bench@builder.example> %d +0000\ndata 6\nfiller\n' $((t_root + k))
			printf 'M 100644 inline events.jsonl\ndata %d\n%s\n\n' $((${#k} + 1)) "$k"
		done
		printf 'commit refs/oxygen/state\ncommitter oxygen <bench@builder.example> %d +0000\ndata 4\naged\ndeleteall\n' $((t_root + n))
		for path in events.jsonl $(cd "$st/.substrate/state" && ls leases/* capsules/* signals/* 2>/dev/null); do
			printf 'M 100644 inline %s\ndata %d\n' "$path" "$(wc -c <"$st/.substrate/state/$path")"
			cat "$st/.substrate/state/$path"
			printf '\n'
		done
	} | git -C "$bare" fast-import --quiet || die "could not age $bare"
}

# clone_of NAME DIR EMAIL [URL]: a clone that claims as EMAIL, synced.
clone_of() {
	git clone -q "${4:-$remotes/$1.git}" "$2" 2>/dev/null || die "git clone ${4:-$remotes/$1.git} failed"
	git -C "$2" config user.email "$3"
	(cd "$2" && "$oxy" sync >/dev/null) || die "oxygen sync in $2 failed"
}
printf 'cd "$1" && %q claim r1 --ttl 1h >/dev/null && %q release r1 >/dev/null\n' "$oxy" "$oxy" >"$tmp/pair.sh"

gitrows=()
if [ "$prior" -gt 0 ]; then
	say "git store: remotes with 10 and $prior prior state commits"
	make_remote young
	make_remote aged
	for k in 1 2 3 4; do sh "$tmp/pair.sh" "$tmp/seed-young" || die "claim in seed-young failed"; done
	age_remote aged "$prior"
	phase "remotes"
	clone_of young "$tmp/c-young" agent@d1.example
	clone_of aged "$tmp/c-aged" agent@d1.example
	bench gitstore -- "claim + release after $prior prior" "$(quote sh "$tmp/pair.sh" "$tmp/c-aged")" \
		"claim + release after 10 prior" "$(quote sh "$tmp/pair.sh" "$tmp/c-young")"
	gitrows+=("claim + release (local remote): $prior prior  /  10 prior|gitstore|ratio|120")
	port=$((20000 + RANDOM % 20000))
	git daemon --reuseaddr --base-path="$remotes" --export-all --enable=receive-pack \
		--listen=127.0.0.1 --port="$port" --detach --pid-file="$tmp/daemon.pid" "$remotes" ||
		die "git daemon failed"
	trap 'kill "$(cat "$tmp/daemon.pid")" 2>/dev/null; cleanup' EXIT
	sleep 0.5 # the daemon's socket
	clone_of young "$tmp/d-young" agent@d1.example "git://127.0.0.1:$port/young.git"
	clone_of aged "$tmp/d-aged" agent@d1.example "git://127.0.0.1:$port/aged.git"
	bench daemon -- "claim + release (git daemon) after $prior prior" "$(quote sh "$tmp/pair.sh" "$tmp/d-aged")" \
		"claim + release (git daemon) after 10 prior" "$(quote sh "$tmp/pair.sh" "$tmp/d-young")"
	gitrows+=("claim + release (git daemon): $prior prior  /  10 prior|daemon|ratio|120")
fi

# fleet_act I VERB RESOURCE [KIND]: clone I acts: of the fleet's remote,
# where clones decide their own acts (fleet, the default), of the
# sequenced one (seq), or of its own copy of the sequenced one (solo);
# appends "ms exit pushes" to $tmp/KIND-VERB.txt. GIT_TRACE counts the
# pushes, so the tries.
fleet_act() {
	local t0 rc=0 kind=${4:-fleet} dir
	case $kind in fleet) dir=$tmp/f$1 ;; seq) dir=$tmp/q$1 ;; *) dir=$tmp/s$1 ;; esac
	stamp
	t0=$now
	(cd "$dir" && GIT_TRACE="$tmp/trace.$1" "$oxy" "$2" "$3" >/dev/null 2>&1) || rc=$?
	stamp
	echo "$(((now - t0) / 1000)) $rc $(grep -c 'built-in: git push' "$tmp/trace.$1")" >>"$tmp/$kind-$2.txt"
	rm -f "$tmp/trace.$1"
}
# floor_act I: git's own work for one act, as a floor for the fleet's: clone
# I of a bare remote with no hooks fetches its own ref, commits on it and
# pushes it back with compare-and-swap; no ref is shared, so nothing waits
# for anything but the machine. Appends "ms exit 1" to $tmp/fleet-floor.txt.
floor_act() {
	local t0 rc=0 ref=refs/floor/f$1
	stamp
	t0=$now
	(
		cd "$tmp/g$1" &&
			git fetch -q --no-tags origin "+$ref:$ref" &&
			old=$(git rev-parse "$ref") &&
			new=$(git commit-tree -p "$old" -m act "$old^{tree}") &&
			git push -q --force-with-lease="$ref:$old" origin "$new:$ref"
	) >/dev/null 2>&1 || rc=$?
	stamp
	echo "$(((now - t0) / 1000)) $rc 1" >>"$tmp/fleet-floor.txt"
}
# summary FILE: failures, p50, p90, max and the tries distribution.
summary() {
	local lat fails tries
	mapfile -t lat < <(awk '{print $1}' "$1" | sort -n)
	fails=$(awk '$2 != 0' "$1" | wc -l)
	tries=$(awk '{n[$3]++} END {for (k in n) printf "%s:%d\n", k, n[k]}' "$1" | sort -n | tr '\n' ' ')
	printf '%d acts, %d failed, p50 %d ms, p90 %d ms, max %d ms; pushes per act (pushes:acts) %s' \
		"${#lat[@]}" "$fails" "${lat[${#lat[@]} / 2]}" "${lat[${#lat[@]} * 9 / 10]}" "${lat[${#lat[@]} - 1]}" "$tries"
}
fleet_out=()
if [ "$clones" -gt 0 ]; then
	make_remote fleet
	make_remote fleetseq "$tmp/fleet-policy-seq.yaml"
	for ((i = 1; i <= clones; i++)); do
		clone_of fleet "$tmp/f$i" "agent@d$i.example"
		clone_of fleetseq "$tmp/q$i" "agent@d$i.example"
	done
	# The sequenced clones, each of its own copy of the remote: their acts
	# with no ref, and no lock, shared: the floor of any design of the store.
	for ((i = 1; i <= clones; i++)); do
		cp -a "$remotes/fleetseq.git" "$remotes/solo$i.git"
		clone_of "solo$i" "$tmp/s$i" "agent@d$i.example"
	done
	git init -q --bare "$remotes/floor.git"
	for ((i = 1; i <= clones; i++)); do
		git clone -q "$remotes/floor.git" "$tmp/g$i" 2>/dev/null
		git -C "$tmp/g$i" commit -q --allow-empty -m "floor $i"
		git -C "$tmp/g$i" update-ref "refs/floor/f$i" HEAD
		git -C "$tmp/g$i" push -q origin "refs/floor/f$i:refs/floor/f$i" || die "could not make the fleet's floor"
	done
	# rounds N KIND: N clones of KIND claim their own resource at once, then
	# release it, --rounds times; the ms it took is in $fleet_ms.
	rounds() {
		local r i
		rm -f "$tmp/$2-claim.txt" "$tmp/$2-release.txt"
		stamp
		t_fleet=$now
		for ((r = 0; r < rounds; r++)); do
			for ((i = 1; i <= $1; i++)); do fleet_act "$i" claim "r$i" "$2" & done
			wait
			for ((i = 1; i <= $1; i++)); do fleet_act "$i" release "r$i" "$2" & done
			wait
		done
		stamp
		fleet_ms=$(((now - t_fleet) / 1000))
	}
	for n in "${fleets[@]}"; do
		for kind in seq fleet; do
			say "fleet: $n clones, $rounds rounds ($kind)"
			rounds "$n" "$kind"
			cat "$tmp/$kind-claim.txt" "$tmp/$kind-release.txt" >"$tmp/$kind-all.txt"
			ok=$(awk '$2 == 0' "$tmp/$kind-all.txt" | wc -l)
			fails=$(awk '$2 != 0' "$tmp/$kind-all.txt" | wc -l)
			p90=$(awk '{print $1}' "$tmp/$kind-claim.txt" | sort -n | awk '{a[NR] = $1} END {print a[int(NR * 9 / 10) + 1]}')
			verdict=PASS
			if [ "$fails" -gt 0 ] || { [ "$kind" = seq ] && [ "$n" -le 8 ] && [ "$p90" -ge 300 ]; }; then verdict=MISS missed=1; fi
			target="0 failures"
			[ "$kind" = fleet ] || [ "$n" -gt 8 ] || target+=", claim p90 < 300 ms"
			how="the remote decides each act (store.sequenced)"
			[ "$kind" = seq ] || how="each clone decides its own acts and pushes them with compare-and-swap"
			fleet_out+=("fleet of $n clones x $rounds rounds, each its own resource; $how (target: $target): $verdict")
			fleet_out+=("  claims:   $(summary "$tmp/$kind-claim.txt")")
			fleet_out+=("  releases: $(summary "$tmp/$kind-release.txt")")
			fleet_out+=("  throughput: $ok acts in $fleet_ms ms = $((ok * 1000 / (fleet_ms > 0 ? fleet_ms : 1))) acts/s")
		done
		rounds "$n" solo
		fleet_out+=("  the sequenced acts with no ref shared, each clone on its own copy of the remote (the floor of any design):")
		fleet_out+=("    claims:   $(summary "$tmp/solo-claim.txt" | sed 's/; pushes.*//')")
		fleet_out+=("    releases: $(summary "$tmp/solo-release.txt" | sed 's/; pushes.*//')")
		rm -f "$tmp/fleet-floor.txt"
		for ((r = 0; r < rounds; r++)); do
			for ((i = 1; i <= n; i++)); do floor_act "$i" & done
			wait
		done
		fleet_out+=("  git's own floor, each clone fetching, committing on and pushing its own ref at once: $(summary "$tmp/fleet-floor.txt" | sed 's/; pushes.*//')")
	done
	for kind in seq fleet; do
		rm -f "$tmp/$kind-claim.txt"
		for ((i = 1; i <= clones; i++)); do fleet_act "$i" claim r1 "$kind" & done
		wait
		winners=$(awk '$2 == 0' "$tmp/$kind-claim.txt" | wc -l)
		lost=$(awk '$2 == 1' "$tmp/$kind-claim.txt" | wc -l)
		verdict=PASS
		[ "$winners" = 1 ] && [ "$lost" = $((clones - 1)) ] || verdict=MISS missed=1
		how=sequenced
		[ "$kind" = seq ] || how="compare-and-swap"
		fleet_out+=("same resource, $clones clones at once ($how): $winners won, $lost refused (leased by the winner), $((clones - winners - lost)) other failures: $verdict")
	done
fi

acts_out=
if [ "$acts" -gt 0 ]; then
	say "$acts acts in one clone of the git store"
	[ -d "$remotes/young.git" ] || make_remote young
	clone_of young "$tmp/a-young" agent@d1.example
	before=$(du -sk "$tmp/a-young/.git" | cut -f1)
	stamp
	t_acts=$now
	for ((k = 0; k < acts; k += 2)); do sh "$tmp/pair.sh" "$tmp/a-young" || die "act $k failed"; done
	stamp
	after=$(du -sk "$tmp/a-young/.git" | cut -f1)
	acts_out="$acts acts in one clone ($(((now - t_acts) / acts / 1000)) ms each): .git from $((before / 1024)) MB to $((after / 1024)) MB; $(git -C "$tmp/a-young" count-objects -v | tr '\n' ' ')"
	[ "$after" -lt $((50 * 1024)) ] || missed=1
fi

echo
echo "the git store (same run)"
printf '%-60s %10s %9s %7s  %-14s %s\n' "" "ms" "ms" "ratio" "target" "result"
for g in "${gitrows[@]}"; do
	IFS='|' read -r what key kind limit <<<"$g"
	row "$what" "$key" "$kind" "$limit" young
done
for l in "${fleet_out[@]}"; do echo "$l"; done
[ -n "$acts_out" ] && echo "$acts_out"
exit "$missed"
