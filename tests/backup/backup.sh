#!/bin/bash
# SPDX-License-Identifier: MIT
# cli-backup: accordctl backup / backup verify / diff.
. "$(dirname "$0")/../cli/lib.sh" "$@"

B=$T/bk
mkdir -p "$B"
expect 0 "init" init --uid-range 10000-60000 --gid-range 10000-60000
for u in alice bob; do acc user add "$u" >/dev/null 2>&1; done
acc group add dev >/dev/null 2>&1
acc group adduser dev alice >/dev/null 2>&1
acc appl add sshd >/dev/null 2>&1
acc appl permit sshd --group dev >/dev/null 2>&1
acc passticket permit TSO --group dev >/dev/null 2>&1
printf 'Secret-pass-1\n' | acc user passwd alice >/dev/null 2>&1
G0=$(generation)

# ---- round trip
expect 0 "backup without secrets" backup "$B/a.bak"
check "backup is 0644" 644 "$(stat -c %a "$B/a.bak")"
check "header names the generation" "generation=$G0" \
	"$(head -1 "$B/a.bak" | grep -o 'generation=[0-9]*')"
check "header: no secrets" "secrets=0" "$(head -1 "$B/a.bak" | grep -o 'secrets=[01]')"
expect 0 "backup verify" --json backup verify "$B/a.bak"
check "verify: generation" "$G0" "$(json_get "$T/out" 'd["generation"]')"
check "verify: no passwords" "0" "$(json_get "$T/out" 'd["passwords"]')"
check "verify: ptauth file" "1" "$(json_get "$T/out" 'd["ptauth_files"]')"
expect 0 "diff of a fresh backup" diff "$B/a.bak"
check "no differences" "no differences" "$(tail -1 "$T/out")"
expect 74 "backup never replaces a file" backup "$B/a.bak"
grep -q "already exists" "$T/err" && ok "message: already exists" || not_ok "message" "$(err)"

# ---- secrets
expect 0 "backup with secrets" backup --include-secrets "$B/s.bak"
check "secret backup is 0600" 600 "$(stat -c %a "$B/s.bak")"
check "header: secrets" "secrets=1" "$(head -1 "$B/s.bak" | grep -o 'secrets=[01]')"
hash=$(awk '{print $5}' "$REG/secrets/password/alice")
if [ -n "$hash" ] && grep -qaF "$hash" "$B/s.bak"; then
	ok "password hash carried"
else
	not_ok "password hash carried"
fi
grep -qaF "$hash" "$B/a.bak" && not_ok "no hash without --include-secrets" ||
	ok "no hash without --include-secrets"
expect 0 "verify with secrets" --json backup verify "$B/s.bak"
check "verify: one password" "1" "$(json_get "$T/out" 'd["passwords"]')"
cp -p "$B/s.bak" "$B/s2.bak" && chmod 0640 "$B/s2.bak"
expect 77 "secret backup readable by group refused" backup verify "$B/s2.bak"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 0755 "$T"
	mkdir -p "$T/nb" && chmod 0777 "$T/nb"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ACCORDCTL" backup \
		--include-secrets "$T/nb/x.bak" >"$T/out" 2>"$T/err"
	rc=$?
	check "non-root --include-secrets refused (exit 77)" 77 "$rc"
	[ ! -e "$T/nb/x.bak" ] && ok "nothing written" || not_ok "nothing written"
	chmod 0700 "$T"
else
	echo "ok - # SKIP non-root check (not root or no setpriv)"
fi

# ---- diff of known changes
acc user mod bob --shell /bin/sh >/dev/null 2>&1
acc user add carol >/dev/null 2>&1
acc group del dev >/dev/null 2>&1
acc passticket permit TSO --user bob >/dev/null 2>&1
expect 0 "diff backup vs live" diff "$B/a.bak"
sed 1,2d "$T/out" >"$T/d.txt"
cat >"$T/want.txt" <<'W'
~ user bob: shell /bin/bash -> /bin/sh
+ user carol
- group dev
+ group carol
~ appl sshd: access:group:dev read -> (none)
+ ptauth TSO:user:bob
W
# order: by class then name
python3 - "$T/want.txt" >"$T/want2.txt" <<'P'
import sys
order = ["user","group","appl","swap","certmap","ca","ptauth"]
ls = open(sys.argv[1]).read().splitlines()
ls.sort(key=lambda l: (order.index(l.split()[1]), l.split()[2].rstrip(":")))
print("\n".join(ls))
print("6 differences: users +1 -0 ~1; groups +1 -1 ~0; appls +0 -0 ~1; ptauth +1 -0 ~0")
P
check "diff text" "$(cat "$T/want2.txt")" "$(cat "$T/d.txt")"
expect 0 "diff --json" --json diff "$B/a.bak"
check "json: summary users" '{"add": 1, "change": 1, "delete": 0}' \
	"$(json_get "$T/out" 'd["summary"]["users"]')"
check "json: bob's change" '[{"a": "/bin/bash", "b": "/bin/sh", "field": "shell"}]' \
	"$(json_get "$T/out" '[c["fields"] for c in d["changes"] if c["name"]=="bob"][0]')"
check "json: names" '["bob", "carol", "carol", "dev", "sshd", "TSO:user:bob"]' \
	"$(json_get "$T/out" '[c["name"] for c in d["changes"]]')"
expect 0 "backup b" backup "$B/b.bak"
expect 0 "diff of two backups" --json diff "$B/a.bak" "$B/b.bak"
check "two backups: 6 changes" 6 "$(json_get "$T/out" 'len(d["changes"])')"
expect 0 "diff b vs live: none" diff "$B/b.bak"
check "b equals live" "no differences" "$(tail -1 "$T/out")"

# ---- one generation while writers commit
for w in 1 2 3 4; do
	( for i in $(seq 1 40); do "$ACCORDCTL" user add "w$w-$i" >/dev/null 2>&1; done ) &
done
sleep 0.3
bad=0
for k in 1 2 3 4 5; do
	acc backup "$B/c$k.bak" >/dev/null 2>"$T/err" || { bad=1; cat "$T/err"; }
	sleep 0.2
done
wait
check "backups during commits succeed" 0 "$bad"
gens=""
for k in 1 2 3 4 5; do
	g=$(head -1 "$B/c$k.bak" | sed 's/.*generation=\([0-9]*\).*/\1/')
	# the snapshot bytes in the backup are exactly snap/gen-G
	python3 - "$B/c$k.bak" "$T/snap$k" <<'P'
import struct, sys
d = open(sys.argv[1], "rb").read()
h = d.index(b"\n") + 1
assert d[h:h+4] == b"SNAP"
n = struct.unpack_from("<Q", d, h + 8)[0]
open(sys.argv[2], "wb").write(d[h+16:h+16+n])
P
	if cmp -s "$T/snap$k" "$(gen_file "$g")"; then
		ok "backup $k is generation $g byte for byte"
	else
		not_ok "backup $k is generation $g byte for byte"
	fi
	# its users are exactly those the journal had made up to G: the
	# backup's set is the live set less what diff says was added since
	acc --json log >"$T/log.jsonl" 2>/dev/null
	acc --json diff "$B/c$k.bak" >"$T/dj" 2>/dev/null
	acc --json user list >"$T/ul" 2>/dev/null
	res=$(python3 - "$T/log.jsonl" "$g" "$T/dj" "$T/ul" <<'P'
import json, sys
g = int(sys.argv[2])
names, gen = set(), 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "accord_journal" in e:
        gen = e["generation"]
    elif gen <= g and e.get("kind") == "user":
        if e["change"] == "add": names.add(e["name"])
        elif e["change"] in ("del", "delete"): names.discard(e["name"])
d = json.load(open(sys.argv[3]))
live = set(u["name"] for u in json.load(open(sys.argv[4])))
added = set(c["name"] for c in d["changes"] if c["class"] == "users" and c["op"] == "add")
deleted = set(c["name"] for c in d["changes"] if c["class"] == "users" and c["op"] == "delete")
other = [c for c in d["changes"] if c["class"] == "users" and c["op"] == "change"]
have = (live - added) | deleted
print("same" if have == names and not other and len(names) > 2 else
      "differ: journal-only %s backup-only %s changes %d" % (sorted(names - have)[:5], sorted(have - names)[:5], len(other)))
P
)
	check "backup $k: users = the journal's at generation $g" same "$res"
	gens="$gens $g"
done
check "backups saw several generations" yes "$( [ "$(echo $gens | tr " " "\n" | sort -u | wc -l)" -ge 2 ] && echo yes || echo no)"
check "live registry has every writer's users" 163 "$(acc --json user list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# ---- damaged backups
before=$(registry_state)
size=$(stat -c %s "$B/s.bak")
hl=$(head -1 "$B/s.bak" | wc -c)
for cut in 0 10 $((hl - 1)) $((hl + 8)) $((hl + 200)) $((size / 2)) $((size - 49)) $((size - 1)); do
	head -c "$cut" "$B/s.bak" >"$B/t.bak"; chmod 600 "$B/t.bak"
	expect 65 "truncated at $cut refused" backup verify "$B/t.bak"
	grep -qE "truncated|damaged|not an accord backup" "$T/err" && ok "message ($cut): $(head -c 90 "$T/err")" ||
		not_ok "clear message" "$(err)"
	rm -f "$B/t.bak"
done
# one byte flipped in the header, the snapshot section, each secret
# section, the trailer
offs=$(python3 - "$B/s.bak" <<'P'
import struct, sys
d = open(sys.argv[1], "rb").read()
h = d.index(b"\n") + 1
offs = [20, h + 2, h + 16 + 200]
o = h
while o < len(d) - 48:
    nl, dl = struct.unpack_from("<IQ", d, o + 4)
    if d[o:o+4] != b"SNAP":
        offs.append(o + 16 + nl + dl // 2)   # the data
        offs.append(o + 17)                  # the name
    offs.append(o + 16 + nl + dl + 5)        # the section checksum
    o += 16 + nl + dl + 32
offs += [len(d) - 40, len(d) - 3]
print(" ".join(map(str, offs)))
P
)
for off in $offs; do
	cp "$B/s.bak" "$B/t.bak"; chmod 600 "$B/t.bak"
	python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^0x20]))' "$B/t.bak" "$off"
	expect 65 "byte $off flipped refused" backup verify "$B/t.bak"
	grep -qE "damaged|not an accord backup|checksum" "$T/err" && ok "message ($off): $(head -c 100 "$T/err")" ||
		not_ok "clear message" "$(err)"
	expect 65 "diff refuses byte $off flipped" diff "$B/t.bak"
	rm -f "$B/t.bak"
done
expect 66 "missing backup" backup verify "$B/nope.bak"
expect 64 "diff without arguments" diff
check "registry untouched by refused input" "$before" "$(registry_state)"
finish
