#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl storage on a real file tree: two registries stand for two
# hosts.  Register on A, attach on B (owners missing on B created disabled
# and no-password, matching owners untouched, mismatched owners converted
# exactly, a swap of IDs included); an --apply killed with SIGKILL and
# resumed to the same result; the delete guard with each --owned-files
# choice; bad manifests and unregistered paths refused with nothing
# changed.
#
#   storage.sh ACCORDCTL
. "$(dirname "$0")/../cli/lib.sh" "$@"

if [ "$(id -u)" != 0 ]; then
	echo "# needs root (chown of test files)"
	exit 77
fi

# json DESC ARGS...: --json ARGS succeeds; the document is in $T/json.
json() {
	local d=$1
	shift
	expect 0 "$d" --json "$@"
	cp "$T/out" "$T/json"
}
jcheck() {
	check "$1" "$3" "$(json_get "$T/json" "$2")"
}

CONF_A=$T/accord.conf
CONF_B=$T/b.conf
REG_B=$T/regb
printf 'registry = %s\nsnapshot = %s\n' "$REG_B" "$T/localb/snapshot" >"$CONF_B"
chmod 0644 "$CONF_B"
on_a() { export ACCORD_CONF=$CONF_A; }
on_b() { export ACCORD_CONF=$CONF_B; }

# owners NAMEFILE DIR: "path uid gid" of every entry under DIR (not .accord)
owners() {
	(cd "$1" && find . -path ./.accord -prune -o -printf '%p %U %G\n' | sort)
}

# users of the current registry as "name uid"
users_of() {
	"$ACCORDCTL" --json user list | python3 -c '
import json, sys
for u in json.load(sys.stdin):
    print(u["name"], u["uid"])' | sort
}

# mktree DIR N: N files spread over directories, owned by the uids in
# $T/uids (one per line), round robin; some owned by root and by an ID
# no registry knows; one setuid file, one symlink (lchown only).
mktree() {
	python3 - "$1" "$2" "$T/uids" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
uids = [int(l) for l in open(sys.argv[3]) if l.strip()]
os.makedirs(root, exist_ok=True)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i % 97), "s%d" % (i % 5))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "f%d" % i)
    open(p, "w").close()
    if i % 50 == 7:
        os.chown(p, 0, 0)
    elif i % 50 == 11:
        os.chown(p, 777777, 777777)
    else:
        u = uids[i % len(uids)]
        os.chown(p, u, u)
s = os.path.join(root, "setuid")
open(s, "w").close()
os.chown(s, uids[0], uids[0])
os.chmod(s, 0o4755)
os.symlink("/etc/passwd", os.path.join(root, "link"))
os.lchown(os.path.join(root, "link"), uids[1], uids[1])
EOF
}

# ---- host A: 30 profiles, a tree owned by them ---------------------------
on_a
expect 0 "init A" init --uid-range 5000-60000 --gid-range 5000-60000
: >"$T/uids"
for i in $(seq 1 30); do
	run user add "u$i"
	sed -n "s/.*uid \([0-9]*\),.*/\1/p" "$T/out" >>"$T/uids"
done
check "30 profiles on A" 30 "$(wc -l <"$T/uids")"
VOL=$T/vol
mktree "$VOL" 3000
expect 0 "register on A" storage register "$VOL" --name vol1
check "manifest is root's, 0644" "0 644" "$(stat -c '%u %a' "$VOL/.accord/manifest.json")"
json "storage show" storage show vol1
jcheck "manifest counts every entry (find)" \
	"d['files']" "$(find "$VOL" -path "$VOL/.accord" -prune -o -print | wc -l)"
jcheck "owners by name: u1" "[o['id'] for o in d['owners'] if o['name']=='u1' and o['kind']=='user']" \
	"[$(head -1 "$T/uids")]"
jcheck "an ID without a profile is recorded without a name" \
	"[o['name'] for o in d['owners'] if o['id']==777777 and o['kind']=='user']" '[""]'
check "registry record exists" yes "$([ -f "$REG/storages/vol1.json" ] && echo yes)"
json "storage list" storage list
jcheck "list names vol1" "[s['name'] for s in d]" '["vol1"]'
expect 65 "register the same tree twice" storage register "$VOL" --name vol2
expect 0 "scan by name" storage scan vol1
expect 0 "scan by path" storage scan "$VOL"

# expected result of an attach: every file's owner name on A -> its uid on B
users_of >"$T/users_a"
owners "$VOL" >"$T/before"

# ---- host B: u1..u10 same IDs, u11..u14 swapped/shifted, the rest missing --
on_b
expect 0 "init B" init --uid-range 5000-60000 --gid-range 5000-60000
for i in $(seq 1 10); do run user add "u$i"; done
# u12 takes u11's ID and u11 u12's: a swap (two-phase conversion)
run user add zz0
run user add u12
run user add u11
run user add u13
run user add zz1
run user add zz2
run user add u14
# u20's ID is tombstoned on B: created on the next free ID
run user add u20 && run user del u20
check "B prepared" 0 "$rc"

expect 0 "attach --dry-run" storage attach "$VOL" --dry-run --chown
check "dry run says so" 1 "$(grep -c 'Dry run: nothing was changed' "$T/out")"
check "dry run names the conversion by chown" 1 "$(grep -c 'files to convert by chown (--chown)' "$T/out")"
check "dry run changed no file" "$(cat "$T/before")" "$(owners "$VOL")"
json "attach --dry-run --json" storage attach "$VOL" --dry-run --chown
jcheck "plan: u5 ok" "[p['action'] for p in d['plan'] if p['name']=='u5' and p['kind']=='user']" '["ok"]'
jcheck "plan: u11 remap" "[p['action'] for p in d['plan'] if p['name']=='u11' and p['kind']=='user']" '["remap"]'
jcheck "plan: u25 create" "[p['action'] for p in d['plan'] if p['name']=='u25' and p['kind']=='user']" '["create+remap"]'
jcheck "plan: u20 create on another ID" "[p['action'] for p in d['plan'] if p['name']=='u20' and p['kind']=='user']" '["create+remap"]'
check "dry run created nobody" "" "$("$ACCORDCTL" user show u25 2>/dev/null)"

# ctime of files of matching owners must not move
ok_file=$(awk -v u="$(sed -n 3p "$T/uids")" '$2==u {print $1; exit}' "$T/before")
ct0=$(stat -c %Z "$VOL/$ok_file")
sleep 1.1
expect 0 "attach --apply" storage attach "$VOL" --apply --chown
check "matching owner's file untouched (ctime)" "$ct0" "$(stat -c %Z "$VOL/$ok_file")"
users_of >"$T/users_b"
expect_owners() { # the owners every file must have on B
	python3 - "$T/before" "$T/users_a" "$T/users_b" <<'EOF'
import sys
a = dict((int(u), n) for n, u in (l.split() for l in open(sys.argv[2])))
b = dict(l.split() for l in open(sys.argv[3]))
for l in open(sys.argv[1]):
    p, u, g = l.split()
    u, g = int(u), int(g)
    nu = b[a[u]] if u in a else u
    ng = b[a[g]] if g in a else g   # personal groups carry the user's name
    print(p, nu, ng)
EOF
}
expect_owners >"$T/expected"
check "every file converted exactly" "$(cat "$T/expected")" "$(owners "$VOL")"
check "setuid bit kept across the chown" 4755 "$(stat -c %a "$VOL/setuid")"
check "symlink target untouched" "0 0" "$(stat -L -c '%u %g' "$VOL/link")"
json "a created profile" user show u25
jcheck "created profile is disabled" "d['status']" disabled
jcheck "created profile has no password" "d['no-password']" true
check "no journal left" no "$([ -e "$VOL/.accord/convert.journal" ] && echo yes || echo no)"
check "audit names the storage" 0 "$(grep -vc '"storage":"vol1"' "$VOL/.accord/audit.jsonl")"
check "audit has the creations" yes "$(grep -q '"action":"create","kind":"user","name":"u25"' "$VOL/.accord/audit.jsonl" && echo yes)"
check "registry journal names the storage" yes \
	"$(grep -lq 'storage attach vol1' "$REG_B"/journal/*.txn && echo yes)"
g0=$(sed -n 's/^generation = //p' "$REG_B/CURRENT")
expect 0 "attach again: nothing to do" storage attach "$VOL" --apply --chown
check "second attach: no new generation" "$g0" "$(sed -n 's/^generation = //p' "$REG_B/CURRENT")"
check "second attach: owners unchanged" "$(cat "$T/expected")" "$(owners "$VOL")"
check "second attach: nothing to convert" 1 "$(grep -c 'nothing to convert' "$T/out")"

# ---- SIGKILL during --apply, then resume --------------------------------
on_a
BIG=$T/big
# smaller under valgrind (it is slower, so the kill still lands midway)
mktree "$BIG" "$([ -n "${ACCORD_TEST_VALGRIND:-}" ] && echo 20000 || echo 150000)"
expect 0 "register big on A" storage register "$BIG" --name big
owners "$BIG" >"$T/before"
users_of >"$T/users_a"
on_b
killed=0
spawn storage attach "$BIG" --apply --chown
pid=$!
for _ in $(seq 1 600); do
	[ -e "$BIG/.accord/convert.journal" ] && break
	sleep 0.01
done
sleep 0.$((RANDOM % 3 + 1))
if kill -9 "$pid" 2>/dev/null; then killed=1; fi
wait "$pid" 2>/dev/null
check "the --apply was killed midway" 1 "$killed"
check "journal left by the killed run" yes "$([ -e "$BIG/.accord/convert.journal" ] && echo yes)"
expect 0 "dry run reports the pending conversion" storage attach "$BIG" --dry-run
check "pending conversion named" 1 "$(grep -c 'interrupted conversion' "$T/out")"
expect 0 "resume with --apply" storage attach "$BIG" --apply --chown
users_of >"$T/users_b"
expect_owners >"$T/expected"
check "resumed conversion: every file exactly as planned" "$(cat "$T/expected")" "$(owners "$BIG")"
check "journal removed after the resume" no "$([ -e "$BIG/.accord/convert.journal" ] && echo yes || echo no)"
json "big manifest after resume" storage show big
jcheck "manifest now names this registry's IDs" \
	"[o['id'] for o in d['owners'] if o['name']=='u11' and o['kind']=='user']" \
	"[$(awk '$1=="u11"{print $2}' "$T/users_b")]"

# ---- delete guard ----------------------------------------------------------
state_b() { registry_state_b; owners "$VOL"; }
registry_state_b() {
	ls -A "$REG_B/journal"; cat "$REG_B/CURRENT"
	"$ACCORDCTL" --json user list; "$ACCORDCTL" --json group list
}
before=$(state_b)
expect 65 "user del of an owner is refused" user del u15
check "refusal lists the storages" 1 "$(grep -c 'vol1 (.*files).*big (.*files)\|big (.*files).*vol1 (.*files)' "$T/err")"
check "refusal changed nothing" "$before" "$(state_b)"
expect 64 "bad --owned-files" user del u15 --owned-files bogus
expect 65 "default-owner without default_owner" user del u15 --owned-files default-owner
check "refusals changed nothing" "$before" "$(state_b)"

u15=$(awk '$1=="u15"{print $2}' "$T/users_b")
u1=$(awk '$1=="u1"{print $2}' "$T/users_b")
n15=$(owners "$VOL" | awk -v u="$u15" '$2==u' | wc -l)
n1=$(owners "$VOL" | awk -v u="$u1" '$2==u' | wc -l)
expect 0 "user del --owned-files transfer:u1" user del u15 --owned-files transfer:u1
check "no file of u15's uid left" 0 "$(owners "$VOL" | awk -v u="$u15" '$2==u' | wc -l)"
check "u1 has them" "$((n1 + n15))" "$(owners "$VOL" | awk -v u="$u1" '$2==u' | wc -l)"
json "manifest after transfer" storage show vol1
jcheck "manifest has no u15" "[o for o in d['owners'] if o['name']=='u15' and o['kind']=='user']" '[]'
jcheck "manifest counts u1's files" \
	"[o['files'] for o in d['owners'] if o['name']=='u1' and o['kind']=='user']" "[$((n1 + n15))]"
check "transfer audited" yes "$(grep -q '"action":"transfer","kind":"user","name":"u15"' "$VOL/.accord/audit.jsonl" && echo yes)"

u16=$(awk '$1=="u16"{print $2}' "$T/users_b")
n16=$(owners "$VOL" | awk -v u="$u16" '$2==u' | wc -l)
expect 0 "user del --owned-files keep" user del u16 --owned-files keep
check "kept files keep their uid" "$n16" "$(owners "$VOL" | awk -v u="$u16" '$2==u' | wc -l)"
run user add u16x
check "the kept uid is not reused" "" "$("$ACCORDCTL" --json user show u16x | python3 -c 'import json,sys; d=json.load(sys.stdin); print("" if d["uid"]!='"$u16"' else "reused")')"

printf 'default_owner = u2\n' >>"$CONF_B"
u17=$(awk '$1=="u17"{print $2}' "$T/users_b")
u2=$(awk '$1=="u2"{print $2}' "$T/users_b")
n2=$(owners "$VOL" | awk -v u="$u2" '$2==u' | wc -l)
n17=$(owners "$VOL" | awk -v u="$u17" '$2==u' | wc -l)
expect 0 "user del --owned-files default-owner" user del u17 --owned-files default-owner
check "default owner has u17's files" "$((n2 + n17))" "$(owners "$VOL" | awk -v u="$u2" '$2==u' | wc -l)"

# a group that is still someone's primary group: refused before any
# file changes hands, even with --owned-files transfer
g19=$(awk '$1=="u19"{print $2}' "$T/users_b")
before=$(state_b)
files_before=$(owners "$VOL" | awk -v g="$g19" '$3==g' | wc -l)
expect 65 "group del of a primary group with transfer is refused" \
	group del u19 --owned-files transfer:u3
check "the refused transfer moved no file" "$files_before" \
	"$(owners "$VOL" | awk -v g="$g19" '$3==g' | wc -l)"
check "the refused transfer changed nothing" "$before" "$(state_b)"
# a group that is nobody's primary group any more
expect 0 "u19's primary group becomes u3" user mod u19 --group u3
before=$(state_b)
expect 65 "group del of an owner is refused" group del u19
check "group refusal changed nothing" "$before" "$(state_b)"
expect 0 "group del --owned-files transfer:u3" group del u19 --owned-files transfer:u3
check "no file of the group's gid left" 0 "$(owners "$VOL" | awk -v g="$g19" '$3==g' | wc -l)"
expect 67 "del of a missing user: nothing transferred" user del nosuch --owned-files transfer:u1
expect 0 "user del of a profile without files" user del zz1

# ---- bad input ----------------------------------------------------------------
on_b
man=$VOL/.accord/manifest.json
cp "$man" "$T/man.good"
refused_attach() { # DESC CODE PATTERN
	local before after
	before=$(state_b)
	run storage attach "$VOL" --apply --chown
	after=$(state_b)
	check "$1: exit $2" "$2" "$rc"
	check "$1: message" 1 "$(grep -ciE -- "$3" "$T/err" | head -1 | sed 's/^[1-9][0-9]*$/1/')"
	check "$1: nothing changed" "$before" "$after"
}
sed -i 's/"files": \([0-9]*\)}/"files": 9\1}/' "$man"
refused_attach "hand-edited manifest" 65 "checksum mismatch"
head -c 300 "$T/man.good" >"$man"
refused_attach "truncated manifest" 65 "truncated"
sed 's/"checksum": "[0-9a-f]*"/"checksum": "0000000000000000"/' "$T/man.good" >"$man"
refused_attach "wrong checksum" 65 "checksum mismatch"
cp "$T/man.good" "$man"
chmod 0666 "$man"
refused_attach "group-writable manifest" 77 "must be owned by root"
chmod 0644 "$man"
touch "$VOL/newfile"
chown 31337:31337 "$VOL/newfile"
refused_attach "manifest that disagrees with the files" 65 "disagrees with its files"
rm -f "$VOL/newfile"
mkdir -p "$T/plain"
before=$(state_b)
expect 66 "scan of an unregistered path" storage scan "$T/plain"
check "message says not registered" 1 "$(grep -c 'not a registered storage' "$T/err")"
expect 66 "attach of an unregistered path" storage attach "$T/plain" --dry-run
expect 67 "show of an unknown name" storage show nosuch
expect 64 "register without --name" storage register "$T/plain"
expect 65 "register with a bad name" storage register "$T/plain" --name 'Bad/Name'
check "bad input changed nothing" "$before" "$(state_b)"
check "no manifest made in the plain dir" no "$([ -e "$T/plain/.accord/manifest.json" ] && echo yes || echo no)"

# ---- hard links, special files, files we must not trust ---------------------
on_b
u6=$(awk '$1=="u6"{print $2}' "$T/users_b")
mkdir -p "$T/outside"
echo secret >"$T/outside/shadow"
chown "$u6:$u6" "$T/outside/shadow"
ln "$T/outside/shadow" "$VOL/d001/linked"
mkfifo "$VOL/d001/fifo"
mknod "$VOL/d001/null" c 1 3
chown "$u6:$u6" "$VOL/d001/fifo" "$VOL/d001/null"
expect 0 "rescan with a hard link to a file outside" storage scan vol1
before=$(registry_state_b)
expect 65 "transfer with a hard-linked file: the delete is refused" \
	user del u6 --owned-files transfer:u1
check "the linked file is named" 1 "$(grep -c "d001/.../linked (uid $u6" "$T/err")"
check "the refusal says why" 1 "$(grep -c 'is not deleted.*hard links' "$T/err")"
check "the file outside the storage keeps its owner" "$u6 $u6" \
	"$(stat -c '%u %g' "$T/outside/shadow")"
check "u6 still exists" 0 "$("$ACCORDCTL" user show u6 >/dev/null 2>&1; echo $?)"
check "registry unchanged by the refused delete" "$before" "$(registry_state_b)"
check "fifo converted (not opened)" "$u1 $u6" "$(stat -c '%u %g' "$VOL/d001/fifo")"
check "device node converted (not opened)" "$u1 $u6" "$(stat -c '%u %g' "$VOL/d001/null")"
check "no journal left" no "$([ -e "$VOL/.accord/convert.journal" ] && echo yes || echo no)"
rm -f "$VOL/d001/linked" "$VOL/d001/fifo" "$VOL/d001/null"
expect 0 "rescan after the links are gone" storage scan vol1

# a conversion journal someone else wrote is never resumed
printf 'accord-convert 1\n' >"$VOL/.accord/convert.journal"
chown 31337 "$VOL/.accord/convert.journal"
before=$(state_b)
expect 77 "a journal not owned by root is refused" storage attach "$VOL" --apply --chown
check "its message" 1 "$(grep -c 'convert.journal: it must be .*owned by root' "$T/err")"
check "refused journal changed nothing" "$before" "$(state_b)"
rm -f "$VOL/.accord/convert.journal"
chmod 0777 "$VOL/.accord"
expect 77 "a world-writable .accord is refused" storage scan vol1
check "its message" 1 "$(grep -c '.accord: it must be a directory' "$T/err")"
chmod 0755 "$VOL/.accord"
chmod 0777 "$VOL"
expect 77 "a storage root others may write to is refused" storage scan vol1
chmod 0755 "$VOL"
mkdir -p "$T/plain/.accord"
ln -s "$T/man.good" "$T/plain/.accord/manifest.json"
expect 77 "a manifest that is a symlink is refused" storage attach "$T/plain" --dry-run
rm -rf "$T/plain/.accord"

# ---- detach -------------------------------------------------------------------
expect 0 "detach" storage detach vol1
check "record gone" no "$([ -e "$REG_B/storages/vol1.json" ] && echo yes || echo no)"
check "manifest stays on the storage" yes "$([ -e "$man" ] && echo yes)"
expect 0 "detach big by path" storage detach "$BIG"
expect 0 "an owner on detached storages can be deleted" user del u4

finish
