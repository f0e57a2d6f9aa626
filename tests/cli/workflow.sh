#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The whole admin workflow through accordctl, as a sysadmin would run it:
# init, groups, users, show/list (text and JSON), mod (shell, groups, uid
# with a tombstone for the old one), status rules, delete with tombstones
# and --shared, who-has, sync, log, check.  After every write the local
# snapshot must be installed (mode 0644, the current generation).
#
#   workflow.sh ACCORDCTL
. "$(dirname "$0")/lib.sh" "$@"

# write DESC ARGS...: a write that must succeed, change the registry by
# exactly one generation and install the result on this host.
write() {
	local d=$1 g0 g1
	shift
	g0=$(generation)
	if ! expect 0 "$d" "$@"; then
		return 1
	fi
	g1=$(generation)
	check "$d: one new generation" "$((g0 + 1))" "$g1"
	check_installed "$d"
}
# unchanged DESC PATTERN ARGS...: a write that changes nothing: exit 0,
# PATTERN in its output, no new generation.
unchanged() {
	local d=$1 pat=$2 g0
	shift 2
	g0=$(generation)
	expect 0 "$d" "$@"
	if grep -q -- "$pat" "$T/out"; then
		ok "$d: says '$pat'"
	else
		not_ok "$d: says '$pat'" "stdout: $(out)"
	fi
	check "$d: no new generation" "$g0" "$(generation)"
}
# json_ok DESC ARGS...: the command succeeds and prints one JSON document.
json_ok() {
	local d=$1
	shift
	expect 0 "$d" --json "$@"
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>"$T/pyerr"; then
		ok "$d: --json output is valid JSON"
	else
		not_ok "$d: --json output is valid JSON" "$(cat "$T/pyerr")" "$(head -c 400 "$T/out")"
	fi
	cp "$T/out" "$T/json"
}
# jcheck DESC EXPR EXPECTED: on the last json_ok output.
jcheck() {
	check "$1" "$3" "$(json_get "$T/json" "$2")"
}
has_line() { grep -qE -- "$2" "$1"; }

# ---- init -----------------------------------------------------------------
expect 0 "init with ranges" init --uid-range 10000-10999 --gid-range 20000-20999
check "init: generation 1" 1 "$(generation)"
check_installed "init"
check_true "init: registry.meta records the ranges" \
	grep -q '^uid_range = 10000-10999$' "$REG/registry.meta"
check_true "init: registry.meta records the gid range" \
	grep -q '^gid_range = 20000-20999$' "$REG/registry.meta"
expect 65 "init twice is refused" init --uid-range 10000-10999
check "init twice: still generation 1" 1 "$(generation)"

# ---- groups and users -------------------------------------------------------
write "group add dev" group add dev
write "group add ops --gid 20500" group add ops --gid 20500
json_ok "group show dev" group show dev
jcheck "dev got the first gid of the range" 'd["gid"]' 20000
json_ok "group show ops" group show ops
jcheck "ops has the gid asked for" 'd["gid"]' 20500

write "user add alice --groups --gecos" user add alice --groups dev,ops --gecos "Alice Liddell"
write "user add bob --group dev, flags" user add bob --group dev --shell /bin/sh \
	--home /srv/bob --protected yes --no-password yes

json_ok "group show alice (personal group)" group show alice
alice_gid=$(json_get "$T/json" 'd["gid"]')
jcheck "alice's personal group is primary for alice" 'd["primary_group_of"]' '["alice"]'

expect 0 "user show alice" user show alice
check_true "user show: name" has_line "$T/out" '^name: +alice$'
check_true "user show: uid is the first of the range" has_line "$T/out" '^uid: +10000$'
check_true "user show: primary group" has_line "$T/out" "^gid: +$alice_gid \\(alice\\)$"
check_true "user show: supplementary groups" has_line "$T/out" '^groups: +dev, ops$'
check_true "user show: gecos" has_line "$T/out" '^gecos: +Alice Liddell$'
check_true "user show: default home" has_line "$T/out" '^home: +/home/alice$'
check_true "user show: status" has_line "$T/out" '^status: +enabled$'

json_ok "user show alice" user show alice
jcheck "json alice: name" 'd["name"]' alice
jcheck "json alice: uid" 'd["uid"]' 10000
jcheck "json alice: gid" 'd["gid"]' "$alice_gid"
jcheck "json alice: group" 'd["group"]' alice
jcheck "json alice: groups" 'sorted(d["groups"])' '["dev", "ops"]'
jcheck "json alice: gecos" 'd["gecos"]' "Alice Liddell"
jcheck "json alice: status" 'd["status"]' enabled
jcheck "json alice: no-password" 'd["no-password"]' false
jcheck "json alice: protected" 'd["protected"]' false

json_ok "user show bob" user show bob
jcheck "json bob: uid is the next one" 'd["uid"]' 10001
jcheck "json bob: gid is dev's" 'd["gid"]' 20000
jcheck "json bob: group" 'd["group"]' dev
jcheck "json bob: no supplementary groups" 'd["groups"]' '[]'
jcheck "json bob: home" 'd["home"]' /srv/bob
jcheck "json bob: shell" 'd["shell"]' /bin/sh
jcheck "json bob: no-password" 'd["no-password"]' true
jcheck "json bob: protected" 'd["protected"]' true

expect 0 "user list" user list
check_true "user list shows alice" has_line "$T/out" '^alice +10000 '
check_true "user list shows bob" has_line "$T/out" '^bob +10001 '
check "user list: header + 2 users" 3 "$(wc -l <"$T/out")"
json_ok "user list" user list
jcheck "json user list: the two users" 'sorted(u["name"] for u in d)' '["alice", "bob"]'
jcheck "json user list: alice's groups" \
	'[sorted(u["groups"]) for u in d if u["name"] == "alice"][0]' '["dev", "ops"]'

expect 0 "group show dev" group show dev
check_true "group show: members" has_line "$T/out" '^members: +alice$'
check_true "group show: primary group of" has_line "$T/out" '^primary group of: +bob$'
json_ok "group show dev" group show dev
jcheck "json group dev: members" 'd["members"]' '["alice"]'
jcheck "json group dev: primary_group_of" 'd["primary_group_of"]' '["bob"]'
expect 0 "group list" group list
check_true "group list shows dev" has_line "$T/out" '^dev +20000 +1$'
check_true "group list shows ops" has_line "$T/out" '^ops +20500 +1$'
json_ok "group list" group list
jcheck "json group list: the groups" 'sorted(g["name"] for g in d)' '["alice", "dev", "ops"]'

# ---- user mod ---------------------------------------------------------------
write "user mod --shell" user mod alice --shell /bin/zsh
json_ok "user show after --shell" user show alice
jcheck "shell changed" 'd["shell"]' /bin/zsh
jcheck "shell change kept the groups" 'sorted(d["groups"])' '["dev", "ops"]'

write "user mod --groups" user mod alice --groups ops
json_ok "user show after --groups" user show alice
jcheck "groups replaced" 'd["groups"]' '["ops"]'
json_ok "group show dev after --groups" group show dev
jcheck "alice left dev" 'd["members"]' '[]'

unchanged "user mod with the same values" "Nothing to change" user mod alice --shell /bin/zsh

write "group adduser" group adduser dev alice
json_ok "user show after adduser" user show alice
jcheck "adduser: alice in dev" 'sorted(d["groups"])' '["dev", "ops"]'
unchanged "group adduser twice" "already a member" group adduser dev alice
write "group deluser" group deluser dev alice
json_ok "user show after deluser" user show alice
jcheck "deluser: alice not in dev" 'd["groups"]' '["ops"]'

write "user mod --uid" user mod alice --uid 10500
json_ok "user show after --uid" user show alice
jcheck "uid changed" 'd["uid"]' 10500
expect 0 "who-has old uid" who-has uid 10000
check_true "who-has: old uid retired from alice" \
	has_line "$T/out" "^uid 10000: retired from user 'alice' on .* by "
json_ok "who-has old uid" who-has uid 10000
jcheck "who-has json: no live holder" 'd["live"]' '[]'
jcheck "who-has json: tombstone of alice" '[t["name"] for t in d["tombstones"]]' '["alice"]'
jcheck "who-has json: not free" 'd["free"]' false
expect 0 "who-has new uid" who-has uid 10500
check "who-has: new uid is alice's" "uid 10500: user alice" "$(out)"
expect 65 "the retired uid cannot be given back" user mod alice --uid 10000
check_true "refusal names the tombstone" grep -q tombstone "$T/err"

# ---- status rules -------------------------------------------------------------
write "user disable" user disable alice
json_ok "show disabled" user show alice
jcheck "status disabled" 'd["status"]' disabled
unchanged "disable twice" "already disabled" user disable alice
write "user enable" user enable alice
json_ok "show enabled" user show alice
jcheck "status enabled" 'd["status"]' enabled
write "user revoke --reason" user revoke alice --reason "badge lost"
json_ok "show revoked" user show alice
jcheck "status revoked" 'd["status"]' revoked
jcheck "revoke reason kept" 'd["revoke_reason"]' "badge lost"
expect 0 "user show revoked (text)" user show alice
check_true "text shows the reason" has_line "$T/out" '^status: +revoked \(reason: badge lost\)$'
g=$(generation)
expect 65 "enable on a revoked user is refused" user enable alice
check_true "enable refusal points to resume" grep -q "resume" "$T/err"
check "refused enable: no new generation" "$g" "$(generation)"
json_ok "show still revoked" user show alice
jcheck "still revoked" 'd["status"]' revoked
write "user resume" user resume alice
json_ok "show resumed" user show alice
jcheck "resume: enabled again" 'd["status"]' enabled
jcheck "resume: reason cleared" 'd["revoke_reason"]' null
unchanged "resume on a user that is not revoked" "ignored" user resume alice

# ---- delete, tombstones, --shared --------------------------------------------------
bob_uid=10001
write "user del bob" user del bob
expect 67 "user show of a deleted user" user show bob
check_true "user show names the missing user" grep -q "'bob' does not exist" "$T/err"
expect 0 "who-has deleted uid" who-has uid $bob_uid
check_true "who-has: tombstone of bob" has_line "$T/out" "^uid $bob_uid: retired from user 'bob'"
g=$(generation)
expect 65 "re-using a deleted user's uid is refused" user add carol --uid $bob_uid
check_true "refusal names the tombstone" grep -q "tombstone" "$T/err"
check "refused add: no new generation" "$g" "$(generation)"
expect 67 "the refused user was not created" user show carol
write "re-using it with --shared" user add carol --uid $bob_uid --shared
json_ok "user show carol" user show carol
jcheck "carol has the shared uid" 'd["uid"]' $bob_uid
jcheck "carol is marked shared" 'd["shared"]' true
json_ok "who-has shared uid" who-has uid $bob_uid
jcheck "who-has: carol live" '[u["name"] for u in d["live"]]' '["carol"]'
jcheck "who-has: bob's tombstone still there" '[t["name"] for t in d["tombstones"]]' '["bob"]'
write "user add again by name reuses nothing" user add bob
json_ok "user show new bob" user show bob
jcheck "new bob gets a new uid" 'd["uid"] not in (10000, 10001, 10500)' true

g=$(generation)
expect 65 "group del of a primary group is refused" group del alice
check_true "refusal says it is a primary group" grep -q "primary group" "$T/err"
check "refused group del: no new generation" "$g" "$(generation)"
json_ok "group still there" group show alice
jcheck "group alice kept its gid" 'd["gid"]' "$alice_gid"
write "group add tmp" group add tmp
json_ok "group show tmp" group show tmp
tmp_gid=$(json_get "$T/json" 'd["gid"]')
write "group del tmp" group del tmp
expect 67 "group show of a deleted group" group show tmp
expect 0 "who-has deleted gid" who-has gid "$tmp_gid"
check_true "who-has gid: tombstone" has_line "$T/out" "^gid $tmp_gid: retired from group 'tmp'"
expect 65 "re-using the deleted gid is refused" group add tmp2 --gid "$tmp_gid"

# ---- who-has: free and out of range -------------------------------------------
expect 0 "who-has free uid" who-has uid 10999
check "who-has free uid in range" \
	"uid 10999: nobody, now or before (inside the registry's range 10000-10999)" "$(out)"
expect 0 "who-has uid out of range" who-has uid 5
check "who-has out-of-range uid" \
	"uid 5: nobody, now or before (outside the registry's range 10000-10999)" "$(out)"
json_ok "who-has free gid" who-has gid 20999
jcheck "who-has json: free" 'd["free"]' true
jcheck "who-has json: in range" 'd["in_range"]' true
json_ok "who-has out-of-range gid" who-has gid 99999
jcheck "who-has json out of range: free" 'd["free"]' true
jcheck "who-has json out of range: not in range" 'd["in_range"]' false
expect 64 "who-has needs a number" who-has uid abc

# ---- sync -------------------------------------------------------------------------
expect 0 "sync right after a write" sync
check_true "sync: up to date (the write installed it)" grep -q "^Up to date" "$T/out"
rm -f "$SNAP"
expect 0 "sync after the local snapshot was removed" sync
check_true "sync: installed" grep -q "^Installed generation $(generation) " "$T/out"
check_installed "sync"
expect 0 "sync again" sync
check_true "sync again: up to date" grep -q "^Up to date" "$T/out"
other=$T/other/snapshot
expect 0 "sync --to another path" sync --to "$other"
check_true "sync --to: installed" grep -q "^Installed generation" "$T/out"
check_true "sync --to: same bytes as the current generation" cmp -s "$other" "$(gen_file "$(generation)")"
check "sync --to: mode 0644" 644 "$(stat -c %a "$other" 2>/dev/null)"
expect 0 "sync --to the second time" sync --to "$other"
check_true "sync --to twice: up to date" grep -q "^Up to date" "$T/out"
json_ok "sync" sync
jcheck "sync json: not changed" 'd["changed"]' false
jcheck "sync json: generation" 'd["generation"]' "$(generation)"
jcheck "sync json: path" 'd["path"]' "$SNAP"
expect 64 "sync --to needs a path" sync --to

# ---- log -------------------------------------------------------------------------
G=$(generation)
expect 0 "log" log
missing=""
for ((i = 1; i <= G; i++)); do
	grep -q "^generation $i " "$T/out" || missing="$missing $i"
done
check "log shows every generation 1-$G (missing:)" "" "$missing"
check "log shows no other generation" "$G" "$(grep -c '^generation ' "$T/out")"
check_true "log names the operations" grep -q "^generation [0-9]* .* user mod alice$" "$T/out"
check_true "log shows the uid change" grep -qE '^ +uid: 10000 -> 10500$' "$T/out"
check_true "log shows the retirement" grep -qE 'retire +uid 10000 \(was user alice\)' "$T/out"
since=$((G - 3))
expect 0 "log --since" log --since $since
check "log --since starts at that generation" "generation $since" \
	"$(head -1 "$T/out" | cut -d' ' -f1-2)"
check "log --since shows the rest" 4 "$(grep -c '^generation ' "$T/out")"
expect 0 "log --json" --json log
if python3 - "$T/out" "$G" <<'EOF'
import json, sys
gens = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "accord_journal" in o:
        gens.append(o["generation"])
assert gens == list(range(1, int(sys.argv[2]) + 1)), gens
EOF
then ok "log --json: one JSON object per line, generations 1-$G in order"
else not_ok "log --json: one JSON object per line, generations 1-$G in order"
fi
expect 0 "log --json --since" --json log --since $since
check "log --json --since: first header" "$since" \
	"$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["generation"])' "$T/out")"
expect 64 "log --since needs a number" log --since x

# ---- check --------------------------------------------------------------------------
expect 0 "check" check
check_true "check: 0 errors" grep -q "^check: 0 errors, 0 warnings$" "$T/out"
json_ok "check" check
jcheck "check json: no errors" 'd["errors"]' 0
jcheck "check json: no warnings" 'd["warnings"]' 0
jcheck "check json: findings listed" 'len(d["findings"]) > 0' true

finish
