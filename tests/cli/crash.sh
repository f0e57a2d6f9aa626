#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Crash safety: writers killed with SIGKILL at random points, many times.
#
# Each round starts a write (`user add cN`, or every third round an import
# of IMPORT users iN_*), kills it after a random delay spread over the
# write's measured duration, and then requires:
#  - `accordctl check` exits 0 (notes about an interrupted commit are fine);
#  - the state is the old or the new one, whole: CURRENT moved by 0 or 1;
#    cN / all of iN_* present exactly when it moved, and then the new
#    generation's journal entry names the operation and is complete;
#  - the next write (`user add dN`) succeeds, sets the leftovers aside
#    (no journal entry or snapshot past CURRENT, no temporary files, no
#    note from check) and installs the local snapshot.
# Then the same for `accordctl sync --to X`, on this file system (hard link
# + rename) and on /dev/shm (copy + rename): X is always the old file or
# the new one, never partial, and the next sync completes it.
#
#   crash.sh ACCORDCTL [SECONDS] [IMPORT]
. "$(dirname "$0")/lib.sh" "$@"
BUDGET=${EXTRA[0]:-30}      # seconds for the write rounds (each sync target gets a fifth)
IMPORT=${EXTRA[1]:-2000}    # users per import round
MIN_ROUNDS=20

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# sleep_ms N (N < 1000)
sleep_ms() { sleep "$(printf '0.%03d' "$1")"; }
# Milliseconds a command takes (median of 3; stdout/stderr discarded).
duration_ms() {
	local a b c t0
	t0=$(now_ms); "$@" >/dev/null 2>&1; a=$(($(now_ms) - t0))
	t0=$(now_ms); "$@" >/dev/null 2>&1; b=$(($(now_ms) - t0))
	t0=$(now_ms); "$@" >/dev/null 2>&1; c=$(($(now_ms) - t0))
	printf '%s\n' $a $b $c | sort -n | sed -n 2p
}
# check_clean DESC: check exits 0 and reports no interrupted commit or
# leftover; nothing past CURRENT in the registry.
check_clean() {
	local d=$1 g past=""
	run check
	g=$(generation)
	[ -e "$REG/journal/$(printf %010d $((g + 1))).txn" ] && past="journal entry $((g + 1))"
	[ -e "$(gen_file $((g + 1)))" ] && past="$past snapshot gen-$((g + 1))"
	if [ "$rc" -ne 0 ]; then
		not_ok "$d: check exits 0" "exit $rc" "$(grep -v '^ok ' "$T/out")"
		return 1
	elif grep -q '^note' "$T/out"; then
		not_ok "$d: leftovers set aside" "$(grep '^note' "$T/out")"
		return 1
	elif [ -n "$past" ] || ls -A "$REG/journal" "$REG/snap" | grep -q '^\.tmp-'; then
		not_ok "$d: leftovers set aside" "$past" "$(ls -A "$REG/journal" "$REG/snap")"
		return 1
	fi
	return 0
}
# writer_ok WHAT: the background accordctl ($wrc, $T/w.err) finished (0)
# or was killed (137), and no sanitizer finding was printed.  A process
# killed while LeakSanitizer ran at its exit leaves a line like
# "==N==Unable to get registers from thread M": not a finding; real
# ASan/UBSan findings are printed before anything else happens.
writer_ok() {
	if [ "$wrc" -ne 0 ] && [ "$wrc" -ne 137 ]; then
		not_ok "$1: accordctl either finished or was killed" "$(head -20 "$T/w.err")"
		return 1
	fi
	if [ "$wrc" -eq 137 ]; then
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/w.err"; then
			not_ok "$1: no sanitizer report" "$(head -40 "$T/w.err")"
			return 1
		fi
		return 0
	fi
	san_check "$T/w.err" "$1"
}
# users_in_snapshot: the user count of the current generation (check's
# "generation G: N users, ..." line).
users_in_snapshot() {
	sed -n 's/^ok  *snapshot: generation [0-9]*: \([0-9]*\) users,.*/\1/p' "$T/out"
}

expect 0 "init" init --uid-range 10000-9999999 --gid-range 20000-9999999 || finish
expect 0 "a group for the imported users" group add crash --gid 20000 || finish

# A passwd file for import round N: users iN_0 .. iN_(IMPORT-1), uids from
# 1000000 + N * IMPORT (the allocator hands out 10000 and up, far below).
import_file() {
	awk -v n="$1" -v k="$IMPORT" 'BEGIN {
		for (j = 0; j < k; j++)
			printf "i%d_%d:x:%d:20000:Imported %d:/home/i%d_%d:/bin/sh\n", n, j, 1000000 + n * k + j, j, n, j
	}' >"$T/import.passwd"
}

add_ms=$(duration_ms acc user add calibrate)
acc user del calibrate >/dev/null 2>&1
import_file 0
t0=$(now_ms)
acc import --passwd "$T/import.passwd" >/dev/null 2>&1
imp_ms=$(($(now_ms) - t0))
echo "# a user add takes ~${add_ms} ms, an import of $IMPORT users ~${imp_ms} ms"

start=$(now_ms)
rounds=0 old=0 new=0 notes=0 kills=0
while :; do
	elapsed=$(($(now_ms) - start))
	if [ $rounds -ge $MIN_ROUNDS ] && [ $elapsed -ge $((BUDGET * 1000)) ]; then
		break
	fi
	[ $rounds -ge 1000 ] && break
	rounds=$((rounds + 1))
	n=$rounds
	G0=$(generation)
	# the users before
	run check
	U0=$(users_in_snapshot)
	if [ $((n % 3)) -eq 0 ]; then
		kind=import
		import_file "$n"
		dur=$imp_ms
		spawn import --passwd "$T/import.passwd"
	else
		kind="user add"
		dur=$add_ms
		spawn user add "c$n"
	fi
	pid=$!
	# a random point in the write's life (a little past its end too)
	delay=$((RANDOM % (dur + dur / 2 + 2)))
	[ $delay -gt 999 ] && delay=999
	sleep_ms $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	wrc=$?
	[ $wrc -eq 137 ] && kills=$((kills + 1))
	what="round $n ($kind, SIGKILL after ${delay} ms, exit $wrc)"
	writer_ok "$what" || continue

	# 1. check passes
	run check
	if [ "$rc" -ne 0 ]; then
		not_ok "$what: check exits 0" "exit $rc" "$(grep -v '^ok ' "$T/out")"
		continue
	fi
	grep -q '^note' "$T/out" && notes=$((notes + 1))
	G1=$(generation)
	U1=$(users_in_snapshot)
	jf=$REG/journal/$(printf %010d "$G1").txn

	# 2. old or new, whole
	fail=""
	if [ "$G1" = "$G0" ]; then
		old=$((old + 1))
		state=old
		[ "$U1" = "$U0" ] || fail="user count $U0 -> $U1 without a new generation"
		if [ "$kind" = import ]; then
			run user show "i${n}_0"
			[ "$rc" -eq 67 ] || fail="$fail; i${n}_0 exists (exit $rc) in the old generation"
		else
			run user show "c$n"
			[ "$rc" -eq 67 ] || fail="$fail; c$n exists (exit $rc) in the old generation"
		fi
	elif [ "$G1" = $((G0 + 1)) ]; then
		new=$((new + 1))
		state=new
		if [ "$kind" = import ]; then
			[ "$U1" = $((U0 + IMPORT)) ] || fail="user count $U0 -> $U1, expected +$IMPORT"
			run user show "i${n}_0"
			[ "$rc" -eq 0 ] || fail="$fail; i${n}_0 missing (exit $rc)"
			run user show "i${n}_$((IMPORT - 1))"
			[ "$rc" -eq 0 ] || fail="$fail; i${n}_$((IMPORT - 1)) missing (exit $rc)"
			grep -q '"operation":"import --passwd ' "$jf" ||
				fail="$fail; journal entry $G1 does not name the import"
		else
			[ "$U1" = $((U0 + 1)) ] || fail="user count $U0 -> $U1, expected +1"
			run user show "c$n"
			[ "$rc" -eq 0 ] || fail="$fail; c$n missing (exit $rc)"
			grep -q "\"operation\":\"user add c$n\"" "$jf" ||
				fail="$fail; journal entry $G1 does not name user add c$n"
		fi
		tail -n 1 "$jf" | grep -q "^{\"end\":$G1," ||
			fail="$fail; journal entry $G1 has no end line"
	else
		state="generation $G0 -> $G1"
		fail="CURRENT moved from $G0 to $G1"
	fi
	if [ -n "$fail" ]; then
		not_ok "$what: old or new state, whole" "$fail" "$(grep -v '^ok ' "$T/out")"
		continue
	fi

	# 3. the next write succeeds and sets the leftovers aside
	run user add "d$n"
	if [ "$rc" -ne 0 ]; then
		not_ok "$what: the next write succeeds" "exit $rc" "$(err)"
		continue
	fi
	check_clean "$what, then user add d$n" || continue
	if ! cmp -s "$SNAP" "$(gen_file "$(generation)")"; then
		not_ok "$what: the next write installs the local snapshot"
		continue
	fi
	ok "$what: $state state, check passes, next write cleans up"
done
echo "# $rounds rounds in $((($(now_ms) - start) / 1000)) s: $kills killed, $old old state," \
	"$new new state, $notes with an interrupted commit noted"
check_true "at least $MIN_ROUNDS rounds ran" [ $rounds -ge $MIN_ROUNDS ]
if [ "$(ls -A "$REG/aborted" | wc -l)" -gt 0 ]; then
	echo "# aborted/ holds $(ls -A "$REG/aborted" | wc -l) files set aside"
fi

# ---- sync --to X, killed -------------------------------------------------------------------------
# A bigger snapshot so that installing it takes a while.
awk 'BEGIN { for (j = 0; j < 30000; j++)
	printf "big%d:x:%d:20000::/home/big%d:/bin/sh\n", j, 5000000 + j, j }' >"$T/big.passwd"
expect 0 "a bigger registry for the sync rounds" import --passwd "$T/big.passwd"
echo "# snapshot: $(stat -c %s "$(gen_file "$(generation)")") bytes"

shm=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/accord-cli-XXXXXX) || shm=""
	[ -n "$shm" ] && trap 'cleanup; rm -rf "$shm"' EXIT
fi
sync_budget=$((BUDGET / 5 + 1))
for target in "$T/synced/snapshot" ${shm:+"$shm/synced/snapshot"}; do
	case $target in /dev/shm/*) where="another file system (copy)" ;; *) where="the registry's file system (link)" ;; esac
	sync_ms=$(duration_ms acc sync --to "$T/calib/snapshot" --force)
	start=$(now_ms)
	srounds=0 sfail=0
	while :; do
		if [ $srounds -ge 10 ] && [ $(($(now_ms) - start)) -ge $((sync_budget * 1000)) ]; then
			break
		fi
		srounds=$((srounds + 1))
		# the registry moves on, X lags behind
		acc user add "s${srounds}x$RANDOM" >/dev/null 2>&1
		rm -f "$T/x.old"
		[ -e "$target" ] && cp "$target" "$T/x.old"
		cur=$(gen_file "$(generation)")
		spawn sync --to "$target"
		pid=$!
		delay=$((RANDOM % (sync_ms + 3)))
		sleep_ms $delay
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		wrc=$?
		what="sync --to on $where, round $srounds (SIGKILL after $delay ms, exit $wrc)"
		if ! writer_ok "$what"; then
			sfail=$((sfail + 1))
			continue
		fi
		if [ -e "$target" ]; then
			if cmp -s "$target" "$cur"; then
				x=new
			elif [ -e "$T/x.old" ] && cmp -s "$target" "$T/x.old"; then
				x=old
			else
				x=partial
			fi
		else
			x=absent
			[ -e "$T/x.old" ] && x="absent (it existed before)"
		fi
		case $x in
		new | old) ;;
		absent) [ $srounds -eq 1 ] || x="absent after round 1" ;;
		esac
		case $x in
		new | old | absent) ;;
		*)
			not_ok "$what: X is the old or the new file" "X is $x ($(stat -c %s "$target" 2>&1))"
			sfail=$((sfail + 1))
			continue
			;;
		esac
		run sync --to "$target"
		if [ "$rc" -ne 0 ] || ! grep -qE '^(Up to date|Installed generation)' "$T/out"; then
			not_ok "$what: the next sync completes" "exit $rc" "$(out)" "$(err)"
			sfail=$((sfail + 1))
			continue
		fi
		if [ "$x" = new ] && ! grep -q '^Up to date' "$T/out"; then
			not_ok "$what: X was new, the next sync says up to date" "$(out)"
			sfail=$((sfail + 1))
			continue
		fi
		if ! cmp -s "$target" "$cur"; then
			not_ok "$what: after the next sync X is the current generation"
			sfail=$((sfail + 1))
			continue
		fi
		ok "$what: X was $x, the next sync completed it"
	done
	echo "# sync on $where takes ~${sync_ms} ms; $srounds rounds"
	leftovers=$(ls -A "$(dirname "$target")" | grep -v '^snapshot$' | grep -v '^\.accord-sync\.lock$')
	if [ -n "$leftovers" ]; then
		echo "# left in $(dirname "$target") by killed syncs:" $leftovers
	fi
done

expect 0 "check at the end" check

finish
