#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl import of a generated passwd/group pair (20,000 users, each
# with a personal group and in one of 20 team groups): one commit, every
# ID kept exactly, every membership visible, and a second identical import
# refused without changing anything.
#
#   import.sh ACCORDCTL [NUSERS]
. "$(dirname "$0")/lib.sh" "$@"
N=${EXTRA[0]:-20000}
TEAMS=20

expect 0 "init" init --uid-range 100000-199999 --gid-range 200000-399999 || finish
expect 0 "a user before the import" user add alice || finish

# uids 100000+i (sparse: every user i*3 apart would overflow the range, so
# shuffled order instead: the file is not sorted by uid), personal groups
# 200000+i, teams 300000+t; alice (already in the registry) is in team0.
python3 - "$T/passwd" "$T/group" "$N" "$TEAMS" <<'EOF'
import random, sys
pw, gr, n, teams = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
order = list(range(n))
random.Random(42).shuffle(order)
with open(pw, "w") as f:
    for i in order:
        f.write(f"u{i}:x:{100100 + i}:{200100 + i}:User {i},Room {i % 97}:/home/u{i}:/bin/bash\n")
with open(gr, "w") as f:
    for i in order:
        f.write(f"u{i}:x:{200100 + i}:\n")
    for t in range(teams):
        members = [f"u{i}" for i in range(t, n, teams)]
        if t == 0:
            members.append("alice")
        f.write(f"team{t}:x:{300000 + t}:{','.join(members)}\n")
EOF
check "generated passwd lines" "$N" "$(wc -l <"$T/passwd")"

G0=$(generation)
t0=$EPOCHREALTIME
expect 0 "import of $N users" import --passwd "$T/passwd" --group "$T/group"
t1=$EPOCHREALTIME
echo "# import took $(python3 -c "print(round($t1 - $t0, 2))") s"
check_true "import reports the counts" \
	grep -q "^Imported $N users, $((N + TEAMS)) groups and $((N + 1)) memberships" "$T/out"
check "import is one commit (one new generation)" "$((G0 + 1))" "$(generation)"
check_installed "import"
check_true "the journal entry names the import" \
	grep -q '"operation":"import --passwd ' "$REG/journal/$(printf %010d "$(generation)").txn"
check_true "the journal entry is complete" \
	bash -c "tail -1 '$REG/journal/$(printf %010d "$(generation)").txn' | grep -q '^{\"end\":$(generation),'"

# Every ID exactly as in the files, every membership.
acc --json user list >"$T/users.json" 2>"$T/err"
san_check "$T/err" "user list"
acc --json group list >"$T/groups.json" 2>"$T/err"
san_check "$T/err" "group list"
if python3 - "$T/passwd" "$T/group" "$T/users.json" "$T/groups.json" >"$T/cmp" 2>&1 <<'EOF'
import json, sys
pw, gr, uj, gj = sys.argv[1:]
want_u = {}
for line in open(pw):
    name, _, uid, gid, gecos, home, shell = line.rstrip("\n").split(":")
    want_u[name] = (int(uid), int(gid), gecos, home, shell)
want_g = {}
for line in open(gr):
    name, _, gid, members = line.rstrip("\n").split(":")
    want_g[name] = (int(gid), sorted(m for m in members.split(",") if m))
users = {u["name"]: u for u in json.load(open(uj))}
groups = {g["name"]: g for g in json.load(open(gj))}
bad = 0
for name, (uid, gid, gecos, home, shell) in want_u.items():
    u = users.get(name)
    got = u and (u["uid"], u["gid"], u["gecos"], u["home"], u["shell"])
    if got != (uid, gid, gecos, home, shell):
        bad += 1
        if bad < 5:
            print(f"user {name}: want {(uid, gid, gecos, home, shell)} got {got}")
for name, (gid, members) in want_g.items():
    g = groups.get(name)
    got = g and (g["gid"], sorted(g["members"]))
    if got != (gid, members):
        bad += 1
        if bad < 10:
            print(f"group {name}: want gid {gid}, {len(members)} members; got {got and (got[0], len(got[1]))}")
extra = set(users) - set(want_u) - {"alice"}
if extra:
    print("unexpected users:", sorted(extra)[:5])
    bad += 1
print(f"{len(users)} users, {len(groups)} groups, {bad} differences")
sys.exit(1 if bad else 0)
EOF
then ok "every user's uid, gid, gecos, home, shell and every group's gid and members as in the files ($(tail -1 "$T/cmp"))"
else not_ok "every uid, gid and membership as in the files" "$(cat "$T/cmp")"
fi

# Memberships as `user show` reports them.
for i in 0 7 12345 $((N - 1)); do
	[ "$i" -lt "$N" ] || continue
	expect 0 "user show u$i" --json user show "u$i"
	check "u$i: uid, primary group and team" "$((100100 + i)) u$i team$((i % TEAMS))" \
		"$(json_get "$T/out" 'str(d["uid"]) + " " + d["group"] + " " + ",".join(d["groups"])')"
done
expect 0 "user show alice" --json user show alice
check "alice (registry user) joined team0 through the group file" '["team0"]' \
	"$(json_get "$T/out" 'd["groups"]')"
expect 0 "group show team3" --json group show team3
check "team3 has its members" "$((N / TEAMS))" "$(json_get "$T/out" 'len(d["members"])')"

# New users after the import get IDs the import did not use.
expect 0 "user add after the import" --json user add newbie
expect 0 "user show newbie" --json user show newbie
check "newbie's uid is past the imported ones" true \
	"$(json_get "$T/out" "d['uid'] >= $((100100 + N))")"
G1=$(generation)

# A second identical import: refused, nothing changes.
before=$(registry_state)
expect 65 "a second identical import is refused" import --passwd "$T/passwd" --group "$T/group"
check_true "refusal names a duplicate" grep -qE "already exists" "$T/err"
after=$(registry_state)
check "second import: no new generation" "$G1" "$(generation)"
if [ "$before" = "$after" ]; then
	ok "second import: registry unchanged"
else
	not_ok "second import: registry unchanged" "$(diff <(echo "$before") <(echo "$after") | head)"
fi

# Password hashes are not imported (secrets live apart), with a warning.
printf 'hashy:$6$salt$abcdefghijklmnop:190000:300000::/home/hashy:/bin/sh\n' >"$T/pw2"
expect 0 "import of a line with a password hash" import --passwd "$T/pw2"
check_true "warning: the hash was not imported" grep -q "1 password hashes .* were not imported" "$T/err"
check_true "the hash is nowhere in the registry" bash -c "! grep -rq abcdefghijklmnop '$REG'"

expect 0 "check" check
check_true "check: 0 errors, 0 warnings" grep -q "^check: 0 errors, 0 warnings$" "$T/out"

finish
