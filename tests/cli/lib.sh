# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared by the CLI tests (sourced, not run):
#
#   . "$(dirname "$0")/lib.sh" "$@"     # $1 = path of accordctl
#
# Gives each test its own directory $T (removed on exit) with
#   $T/accord.conf      registry = $REG, snapshot = $SNAP   (ACCORD_CONF)
#   $REG                the registry directory (not created: run 'init')
#   $SNAP               this "host"'s local snapshot
# and the TAP-like reporting: ok / not_ok / check_* print "ok - ..." or
# "not ok - ..." lines; finish prints "N passed, M failed" and exits 1 if
# anything failed.
#
# EXTRA holds the arguments after ACCORDCTL.
#
# `run ARGS...` runs accordctl with stdout in $T/out, stderr in $T/err and
# the exit code in $rc.  Every run also fails the test if a sanitizer
# (ASan, UBSan, LSan) or valgrind printed anything.
#
# Under `meson test --setup valgrind` meson wraps this shell, not the
# programs it starts: the shell is re-executed without valgrind, and
# accordctl itself is run under valgrind instead.

case "${LD_PRELOAD:-}" in
*vgpreload*)
	export ACCORD_TEST_VALGRIND=1
	exec env -u LD_PRELOAD bash "$0" "$@"
	;;
esac

set -u
umask 022

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 ACCORDCTL [...]" >&2
	echo "not ok - no accordctl executable given"
	echo "0 passed, 1 failed"
	exit 1
fi
ACCORDCTL=$1
shift
# the test's own arguments (the caller's "$@" still starts with ACCORDCTL)
EXTRA=("$@")

# The tests' own environment, nothing inherited that could point the tools
# elsewhere.
unset ACCORD_SNAPSHOT
export LC_ALL=C

T=$(mktemp -d "${TMPDIR:-/tmp}/accord-cli-XXXXXX") || exit 1
REG=$T/reg
SNAP=$T/local/snapshot
cleanup() {
	# background writers of a failed test must not outlive it
	local j
	for j in $(jobs -p); do
		kill -9 "$j" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
printf 'registry = %s\nsnapshot = %s\n' "$REG" "$SNAP" >"$T/accord.conf"
chmod 0644 "$T/accord.conf"
export ACCORD_CONF=$T/accord.conf

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
# not_ok DESC [DETAIL-LINE...]
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}
# check DESC EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "got:      $3"
	fi
}
# check_true DESC COMMAND...
check_true() {
	local d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		not_ok "$d" "failed: $*"
	fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}
bail() {
	not_ok "$1" "${@:2}"
	finish
}

acc() {
	if [ -n "${ACCORD_TEST_VALGRIND:-}" ]; then
		valgrind --quiet --error-exitcode=125 --leak-check=full \
			--errors-for-leak-kinds=definite --track-origins=yes \
			"$ACCORDCTL" "$@"
	else
		"$ACCORDCTL" "$@"
	fi
}

# spawn ARGS...: accordctl ARGS in the background, $! its own pid (not a
# subshell's: a SIGKILL must hit accordctl itself).  Output: $T/w.out,
# $T/w.err.
spawn() {
	if [ -n "${ACCORD_TEST_VALGRIND:-}" ]; then
		valgrind --quiet --error-exitcode=125 --leak-check=full \
			--errors-for-leak-kinds=definite "$ACCORDCTL" "$@" \
			>"$T/w.out" 2>"$T/w.err" &
	else
		"$ACCORDCTL" "$@" >"$T/w.out" 2>"$T/w.err" &
	fi
}

# A sanitizer or valgrind report in a run's stderr is a failure whatever
# the exit code was.
san_check() {
	if grep -qE 'Sanitizer|runtime error:|^==[0-9]+==' "$1" 2>/dev/null; then
		not_ok "no sanitizer/valgrind report ($2)" "$(head -40 "$1")"
		return 1
	fi
	return 0
}

rc=0
run() {
	acc "$@" >"$T/out" 2>"$T/err"
	rc=$?
	san_check "$T/err" "accordctl $*"
	return 0
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }

# expect CODE DESC ARGS...: accordctl ARGS exits with CODE.
expect() {
	local code=$1 d=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$code" ]; then
		ok "$d (exit $code)"
		return 0
	fi
	not_ok "$d (exit $code)" "accordctl $*" "exit $rc" "stdout: $(head -c 600 "$T/out")" \
		"stderr: $(head -c 600 "$T/err")"
	return 1
}

# The current generation of $REG (from CURRENT).
generation() {
	sed -n 's/^generation = //p' "$REG/CURRENT" 2>/dev/null
}
gen_file() {
	printf '%s/snap/gen-%010d' "$REG" "$1"
}

# The local snapshot is installed, mode 0644, and byte for byte the
# registry's current generation.
check_installed() {
	local d=$1 g mode
	g=$(generation)
	if [ ! -f "$SNAP" ]; then
		not_ok "$d: local snapshot installed" "$SNAP does not exist"
		return
	fi
	mode=$(stat -c %a "$SNAP")
	if [ "$mode" != 644 ]; then
		not_ok "$d: local snapshot installed" "mode $mode, expected 644"
	elif ! cmp -s "$SNAP" "$(gen_file "$g")"; then
		not_ok "$d: local snapshot installed" "$SNAP differs from $(gen_file "$g")"
	else
		ok "$d: local snapshot is generation $g, mode 0644"
	fi
}

# json_get FILE EXPR: evaluates the Python expression EXPR with `d` bound
# to the JSON document in FILE; prints the result (lists/dicts as JSON).
json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d})
if isinstance(v, (list, dict, bool)) or v is None:
    print(json.dumps(v, sort_keys=True))
else:
    print(v)
EOF
}

# The registry as a reader sees it: journal listing, CURRENT, users and
# groups (JSON, so every field counts), snapshot files.
registry_state() {
	{
		echo "== journal"
		ls -A "$REG/journal"
		echo "== snap"
		ls -A "$REG/snap"
		echo "== CURRENT"
		cat "$REG/CURRENT"
		echo "== users"
		"$ACCORDCTL" --json user list
		echo "== groups"
		"$ACCORDCTL" --json group list
		echo "== local"
		cksum <"$SNAP"
	} 2>&1
}
