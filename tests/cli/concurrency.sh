#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Several writers on one registry at once.
#
#  - 8 processes each add 25 users at the same time, while 2 readers list
#    users and run `check` in a loop: every add succeeds, all 200 users are
#    there with unique UIDs and GIDs, there is one generation per commit,
#    one complete journal entry per generation (each ends with its
#    {"end":N,...} line), and no reader ever failed.
#  - 4 concurrent `user add` of the same name, started together, several
#    rounds: exactly one succeeds, the others exit 65 ("already exists").
#
#   concurrency.sh ACCORDCTL [WRITERS] [USERS-PER-WRITER]
. "$(dirname "$0")/lib.sh" "$@"
W=${EXTRA[0]:-8}
U=${EXTRA[1]:-25}

expect 0 "init" init --uid-range 10000-19999 --gid-range 20000-29999 || finish
mkdir "$T/rc" "$T/readers"

# The readers run until the writers are done.
reader() { # reader ID COMMAND...
	local id=$1 n=0 fails=0 r
	shift
	while [ ! -e "$T/done" ]; do
		"$ACCORDCTL" "$@" >"$T/readers/$id.out" 2>&1
		r=$?
		n=$((n + 1))
		if [ "$r" -ne 0 ]; then
			fails=$((fails + 1))
			{ grep -v '^ok ' "$T/readers/$id.out"; echo "exit $r"; } \
				>"$T/readers/$id.fail.$fails"
		fi
	done
	echo "$n $fails" >"$T/readers/$id"
}
reader list --json user list &
rpids="$!"
reader check check &
rpids="$rpids $!"

# The writers start together.
writer() { # writer P
	local p=$1 j
	while [ ! -e "$T/go" ]; do sleep 0.001; done
	for ((j = 0; j < U; j++)); do
		acc user add "w${p}u$j" >/dev/null 2>"$T/rc/w${p}u$j.err"
		echo $? >"$T/rc/w${p}u$j"
	done
}
wpids=""
for ((p = 0; p < W; p++)); do
	writer $p &
	wpids="$wpids $!"
done
t0=$EPOCHREALTIME
touch "$T/go"
# shellcheck disable=SC2086
wait $wpids
t1=$EPOCHREALTIME
touch "$T/done"
# shellcheck disable=SC2086
wait $rpids
echo "# $((W * U)) adds by $W writers took $(python3 -c "print(round($t1 - $t0, 2))") s"

total=$((W * U))
nfail=0
for f in "$T"/rc/*; do
	case $f in *.err) continue ;; esac
	if [ "$(cat "$f")" != 0 ]; then
		nfail=$((nfail + 1))
		[ $nfail -le 3 ] && echo "# $(basename "$f"): exit $(cat "$f"): $(cat "$f.err")"
	fi
	san_check "$f.err" "$(basename "$f")" || true
done
check "all $total concurrent user adds exited 0 (failures:)" 0 "$nfail"

acc --json user list >"$T/users.json" 2>"$T/err"
if python3 - "$T/users.json" "$W" "$U" >"$T/cmp" 2>&1 <<'EOF'
import json, sys
users = json.load(open(sys.argv[1]))
w, u = int(sys.argv[2]), int(sys.argv[3])
want = {f"w{p}u{j}" for p in range(w) for j in range(u)}
names = [x["name"] for x in users]
uids = [x["uid"] for x in users]
gids = [x["gid"] for x in users]
problems = []
if set(names) != want or len(names) != len(want):
    problems.append(f"names: {len(names)} listed, missing {sorted(want - set(names))[:5]}, "
                    f"extra {sorted(set(names) - want)[:5]}")
if len(set(uids)) != len(uids):
    problems.append(f"duplicate uids: {sorted(x for x in set(uids) if uids.count(x) > 1)[:5]}")
if len(set(gids)) != len(gids):
    problems.append(f"duplicate gids: {sorted(x for x in set(gids) if gids.count(x) > 1)[:5]}")
if any(not 10000 <= x <= 19999 for x in uids):
    problems.append("uid outside the range")
print("; ".join(problems) or f"{len(names)} users, {len(set(uids))} distinct uids")
sys.exit(1 if problems else 0)
EOF
then ok "all $total users present, UIDs and personal GIDs unique ($(cat "$T/cmp"))"
else not_ok "all $total users present, UIDs and personal GIDs unique" "$(cat "$T/cmp")"
fi

G=$(generation)
check "generations = 1 (init) + one per commit" $((1 + total)) "$G"
# one journal entry per generation, each complete
bad=""
for ((g = 1; g <= G; g++)); do
	f=$REG/journal/$(printf %010d $g).txn
	if [ ! -f "$f" ]; then
		bad="$bad missing:$g"
	elif ! tail -n 1 "$f" | grep -q "^{\"end\":$g,"; then
		bad="$bad incomplete:$g"
	fi
done
check "journal: entries 1-$G present, each ending with its end line" "" "$bad"
check "journal: no other entries" "$G" "$(find "$REG/journal" -name '*.txn' | wc -l)"
# each add is in exactly one entry
dups=$(cat "$REG"/journal/*.txn | sed -n 's/.*"operation":"user add \([^"]*\)".*/\1/p' | sort | uniq -d)
check "journal: every add journaled once (duplicated:)" "" "$dups"
check "journal: every add journaled" "$total" \
	"$(cat "$REG"/journal/*.txn | grep -c '"operation":"user add ')"
check "aborted/ is empty (no commit was interrupted)" "" "$(ls -A "$REG/aborted")"
check_installed "after the concurrent writers"
expect 0 "check after the concurrent writers" check
check_true "check: 0 errors, 0 warnings" grep -q "^check: 0 errors, 0 warnings$" "$T/out"

for id in list check; do
	read -r n fails <"$T/readers/$id" 2>/dev/null || { n=0; fails='?'; }
	if [ "$fails" = 0 ] && [ "$n" -gt 0 ]; then
		ok "reader '$id' ran $n times during the writes, never failed"
	else
		not_ok "reader '$id' never failed during the writes" "$n runs, $fails failed" \
			"$(cat "$T"/readers/$id.fail.* 2>/dev/null | head -20)"
	fi
done

# ---- the same name, four at once ----------------------------------------------------------------
for round in 1 2 3 4 5; do
	rm -f "$T/go2"
	pids=""
	for k in 1 2 3 4; do
		(
			while [ ! -e "$T/go2" ]; do sleep 0.001; done
			acc user add "same$round" >"$T/same.$k.out" 2>"$T/same.$k.err"
			echo $? >"$T/same.$k.rc"
		) &
		pids="$pids $!"
	done
	G0=$(generation)
	touch "$T/go2"
	# shellcheck disable=SC2086
	wait $pids
	codes=$(cat "$T"/same.[1-4].rc | sort | tr '\n' ' ')
	check "round $round: 4 concurrent adds of one name: one exits 0, three exit 65" \
		"0 65 65 65 " "$codes"
	check "round $round: the losers say it already exists" 3 \
		"$(grep -l "user 'same$round' already exists" "$T"/same.[1-4].err | wc -l)"
	check "round $round: one new generation" $((G0 + 1)) "$(generation)"
	for k in 1 2 3 4; do san_check "$T/same.$k.err" "same$round #$k" || true; done
done
acc --json user list >"$T/users.json"
check "each contested name exists once" 5 \
	"$(json_get "$T/users.json" 'len([u for u in d if u["name"].startswith("same")])')"
expect 0 "check at the end" check

finish
