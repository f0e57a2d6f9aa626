#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl restore: a registry, a backup, changes after it, then restore
# variants, each on a fresh copy of the changed registry: --dry-run
# changes nothing; no terminal and no --yes is refused; --exclude keeps
# those names as they are live; --only groups; a deleted profile comes
# back with its UID and no-password (--full: without); the diff shows the
# known changes; --reapply-since-backup brings the later changes back and
# lists a conflict; a backup of another registry is refused without
# --foreign and with it never touches this registry's PassTicket keys,
# CAs, logon records or replay cache; truncated and tampered backups are
# refused with nothing changed.
#
#   restore.sh ACCORDCTL
. "$(dirname "$0")/../cli/lib.sh" "$@"

# The registry as a reader sees it, every class a restore touches.
state() {
	registry_state
	local w
	for w in "appl list" "swap list" "certmap list" "ca list" "crl list" \
		"passticket key list" "passticket permits"; do
		echo "== $w"
		# shellcheck disable=SC2086
		"$ACCORDCTL" --json $w 2>&1
	done
}
# Every file of the secrets store with its checksum.
secrets_state() {
	(cd "$REG/secrets" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
}
# The same without PassTicket permissions (a class restore does restore).
secrets_state_host() {
	secrets_state | grep -v ' \./ptauth/'
}
# refused CODE PATTERN DESC ARGS...: exit CODE, PATTERN on stderr, nothing changed.
refused() {
	local code=$1 pat=$2 d=$3 before after
	shift 3
	before=$(state; secrets_state)
	run "$@"
	after=$(state; secrets_state)
	if [ "$rc" -ne "$code" ]; then
		not_ok "$d: exit $code" "accordctl $*" "exit $rc" "stderr: $(head -c 800 "$T/err")"
	elif ! grep -qiE -- "$pat" "$T/err"; then
		not_ok "$d: message" "expected /$pat/ in stderr" "stderr: $(head -c 600 "$T/err")"
	else
		ok "$d: exit $code, \"$(grep -iE -- "$pat" "$T/err" | head -1 | cut -c1-100)\""
	fi
	if [ "$before" = "$after" ]; then
		ok "$d: registry and secrets unchanged"
	else
		not_ok "$d: registry and secrets unchanged" \
			"$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
}
# field USER EXPR: a field of `user show --json`.
ufield() {
	"$ACCORDCTL" --json user show "$1" >"$T/u.json" 2>/dev/null || { echo "absent"; return; }
	json_get "$T/u.json" "$2"
}
members() {
	"$ACCORDCTL" --json group show "$1" >"$T/g.json" 2>/dev/null || { echo "absent"; return; }
	json_get "$T/g.json" '",".join(sorted(d["members"]))'
}
mkca() { # mkca FILE CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=$2" -keyout "$1.key" -out "$1" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 ||
		bail "openssl makes a CA certificate"
}

# ---- the registry, its backup, changes after it ------------------------
expect 0 "init" init --uid-range 10000-10999 --gid-range 10000-10999 || finish
for u in alice bob carol svc1 svc2; do
	run user add "$u"
	[ "$rc" -eq 0 ] || bail "user add $u" "$(err)"
done
run group add ops
run group adduser ops alice
run group adduser ops svc1
run appl add sshd --uacc none
run appl permit sshd --group ops
run swap permit --from ops --to carol
run certmap add --user alice --sdn "CN=alice,O=Example" --label a1
[ "$rc" -eq 0 ] || bail "certmap add" "$(err)"
mkca "$T/local.pem" "Local CA"
run ca add "$T/local.pem" --label localca
[ "$rc" -eq 0 ] || bail "ca add" "$(err)"
run passticket key set TSO --generate
[ "$rc" -eq 0 ] || bail "passticket key set" "$(err)"
run passticket permit TSO --group ops
BOB_UID=$(ufield bob 'd["uid"]')

echo "alice-old-password" | "$ACCORDCTL" user passwd alice >/dev/null 2>&1 || bail "user passwd alice"
ALICE_HASH=$(cut -d' ' -f5 "$REG/secrets/password/alice")
expect 0 "backup" backup "$T/b1.bak" || finish
expect 0 "backup --include-secrets" backup "$T/b1s.bak" --include-secrets || finish
BGEN=$(generation)
echo "alice-new-password" | "$ACCORDCTL" user passwd alice >/dev/null 2>&1 || bail "user passwd alice (2)"

run user del bob
run user add dave
run user mod carol --shell /bin/sh
run user mod svc1 --gecos changed
run user del svc2
run group deluser ops alice
run group adduser ops carol
run appl permit sshd --user dave
run appl revoke-access sshd --group ops
run certmap del a1 --user alice
run user revoke alice --reason "left the team"
# host-local state: a logon record (resume writes one) and a replay entry
run user revoke carol
run user resume carol
TICKET=$("$ACCORDCTL" passticket generate --user carol --appl TSO 2>/dev/null)
run passticket verify --user carol --appl TSO --ticket "$TICKET" --consume
check "later changes made" 13 "$(($(generation) - BGEN))"
[ -n "$(ls -A "$REG/secrets/logon" 2>/dev/null)" ] && ok "a logon record exists" ||
	not_ok "a logon record exists" "$(ls -la "$REG/secrets")"
[ -n "$(ls -A "$REG/secrets/replay" 2>/dev/null)" ] && ok "a replay entry exists" ||
	not_ok "a replay entry exists" "$(ls -la "$REG/secrets")"

mkdir -p "$T/changed"
cp -a "$REG" "$T/changed/reg" && cp -a "$T/local" "$T/changed/local" || bail "copy"
reset() {
	rm -rf "$REG" "$T/local"
	cp -a "$T/changed/reg" "$REG" && cp -a "$T/changed/local" "$T/local"
}

# ---- the diff, --dry-run ------------------------------------------------
before=$(state; secrets_state)
expect 0 "restore --dry-run" restore "$T/b1.bak" --dry-run
cp "$T/out" "$T/dry.out"
after=$(state; secrets_state)
check "dry run: nothing changed (generation, lists, secrets)" "$before" "$after"
for pat in '^\+ user bob' '^- user dave' '^\+ user svc2' '^~ user carol:.*shell' \
	'^~ user svc1:.*gecos' '^~ user alice:.*status' '^~ group ops' '^~ appl sshd' \
	'^\+ certmap'; do
	grep -qE -- "$pat" "$T/dry.out" && ok "diff shows /$pat/" ||
		not_ok "diff shows /$pat/" "$(cat "$T/dry.out")"
done
grep -qE '^[-+~] (ca|crl) ' "$T/dry.out" &&
	not_ok "diff leaves CAs out by default" "$(cat "$T/dry.out")" || ok "diff leaves CAs out by default"
grep -q "Dry run: nothing changed" "$T/dry.out" && ok "dry run says so" || not_ok "dry run says so" "$(cat "$T/dry.out")"
expect 0 "restore --dry-run --json" --json restore "$T/b1.bak" --dry-run
check "json: users added" 2 "$(json_get "$T/out" 'd["diff"]["summary"]["users"]["add"]')"
check "json: users deleted" 1 "$(json_get "$T/out" 'd["diff"]["summary"]["users"]["delete"]')"

refused 64 "not a terminal.*--yes" "no --yes, no terminal" restore "$T/b1.bak" </dev/null
refused 64 "unknown class" "--only bogus" restore "$T/b1.bak" --only users,bogus --yes
refused 64 "needs --include-secrets" "--only ptkeys without --include-secrets" \
	restore "$T/b1.bak" --only ptkeys --yes
refused 65 "holds no secrets" "--include-secrets from a backup without" \
	restore "$T/b1.bak" --include-secrets --yes

# ---- restore with exclusions -------------------------------------------
g0=$(generation)
expect 0 "restore --exclude 'svc*' --yes" restore "$T/b1.bak" --exclude 'svc*' --yes
check "one new generation" "$((g0 + 1))" "$(generation)"
check_installed "after restore"
check "bob is back with his UID" "$BOB_UID" "$(ufield bob 'd["uid"]')"
check "bob comes back with no-password" true "$(ufield bob 'd["no-password"]')"
check "dave (added after the backup) is gone" absent "$(ufield dave 'd["uid"]')"
check "carol's shell restored" /bin/bash "$(ufield carol 'd["shell"]')"
check "alice enabled again" enabled "$(ufield alice 'd["status"]')"
check "alice keeps her password state (existed here)" false "$(ufield alice 'd["no-password"]')"
check "svc1 excluded: keeps the live gecos" changed "$(ufield svc1 'd["gecos"]')"
check "svc2 excluded: stays deleted" absent "$(ufield svc2 'd["uid"]')"
check "ops members: alice back, carol gone, svc1 as live" "alice,svc1" "$(members ops)"
run --json appl show sshd
check "sshd access list as in the backup" '[["group", "ops", "read"]]' \
	"$(json_get "$T/out" '[[e["type"], e["name"], e["access"]] for e in d["entries"]]')"
run --json certmap list
check "certmap a1 back" a1 "$(json_get "$T/out" '",".join(m["label"] for m in (d if isinstance(d, list) else d["maps"]))')"
expect 0 "restore again: nothing left to do" restore "$T/b1.bak" --exclude 'svc*' --dry-run
grep -q "No differences" "$T/out" && ok "a second restore finds no differences" ||
	not_ok "a second restore finds no differences" "$(out)"

# ---- --full --------------------------------------------------------------
reset
expect 0 "restore --full --yes" restore "$T/b1.bak" --full --yes
check "--full: bob has no no-password mark" false "$(ufield bob 'd["no-password"]')"
check "--full: svc2 back (not excluded)" present "$(ufield svc2 '"present"')"

# ---- --include-secrets: password hashes --------------------------------
reset
[ "$(cut -d' ' -f5 "$REG/secrets/password/alice")" != "$ALICE_HASH" ] &&
	ok "alice's password changed after the backup" || not_ok "alice's password changed after the backup"
expect 0 "restore --include-secrets --only users --yes" \
	restore "$T/b1s.bak" --include-secrets --only users --yes
grep -q "1 password" "$T/out" && ok "one password written" || not_ok "one password written" "$(out)"
check "alice's hash is the backup's" "$ALICE_HASH" "$(cut -d' ' -f5 "$REG/secrets/password/alice")"
check "it is bound to alice's UID" "$(ufield alice 'd["uid"]')" "$(cut -d' ' -f3 "$REG/secrets/password/alice")"
check "the file stays 0600" 600 "$(stat -c %a "$REG/secrets/password/alice")"

# ---- --only groups ---------------------------------------------------------
reset
expect 0 "restore --only groups --yes" restore "$T/b1.bak" --only groups --yes
check "--only groups: ops members as in the backup" "alice,svc1" "$(members ops)"
check "--only groups: bob not restored" absent "$(ufield bob 'd["uid"]')"
check "--only groups: carol's shell stays" /bin/sh "$(ufield carol 'd["shell"]')"
check "--only groups: dave stays" present "$(ufield dave '"present"')"

# ---- --reapply-since-backup ------------------------------------------------
reset
expect 0 "restore --reapply-since-backup --yes" restore "$T/b1.bak" --reapply-since-backup --yes
cp "$T/out" "$T/reapply.out"
check "reapply: dave added again" present "$(ufield dave '"present"')"
check "reapply: carol's later shell" /bin/sh "$(ufield carol 'd["shell"]')"
check "reapply: alice revoked again" revoked "$(ufield alice 'd["status"]')"
check "reapply: ops members as live" "carol,svc1" "$(members ops)"
# bob and svc2 came back with no-password, which is not the 'before' of
# their deletions: those conflict, and they stay
check "reapply: bob's deletion conflicts (restored with no-password)" true \
	"$(ufield bob 'd["no-password"]')"
check "reapply: svc2's deletion conflicts too" present "$(ufield svc2 '"present"')"
grep -qE 'CONFLICT, skipped: generation [0-9]+: delete user bob' "$T/reapply.out" &&
	ok "reapply lists the conflict" || not_ok "reapply lists the conflict" "$(cat "$T/reapply.out")"
grep -qE 'applied: generation [0-9]+: add user dave' "$T/reapply.out" &&
	ok "reapply lists what it applied" || not_ok "reapply lists what it applied" "$(cat "$T/reapply.out")"
reset
expect 0 "restore --full --reapply-since-backup: no conflict" \
	restore "$T/b1.bak" --full --reapply-since-backup --yes
check "--full reapply: bob deleted again" absent "$(ufield bob 'd["uid"]')"
grep -q "CONFLICT" "$T/out" && not_ok "--full reapply: no conflict" "$(out)" || ok "--full reapply: no conflict"

# ---- a backup of another registry ----------------------------------------
reset
R2=$T/reg2
printf 'registry = %s\nsnapshot = %s\n' "$R2" "$T/local2/snapshot" >"$T/accord2.conf"
chmod 0644 "$T/accord2.conf"
a2() { ACCORD_CONF=$T/accord2.conf "$ACCORDCTL" "$@" >/dev/null 2>"$T/err2" || bail "foreign: $*" "$(cat "$T/err2")"; }
a2 init --uid-range 20000-20999 --gid-range 20000-20999
a2 user add zed
echo "zed-secret-pw" | ACCORD_CONF=$T/accord2.conf "$ACCORDCTL" user passwd zed >/dev/null 2>&1 ||
	bail "foreign: user passwd zed"
mkca "$T/foreign.pem" "Foreign CA"
a2 ca add "$T/foreign.pem" --label foreignca
a2 passticket key set FOREIGN --generate
a2 passticket key set TSO --generate
a2 backup "$T/foreign.bak" --include-secrets
keys_before=$("$ACCORDCTL" passticket key list --show 2>&1)
cas_before=$("$ACCORDCTL" ca list 2>&1)
sec_before=$(secrets_state_host)
refused 65 "foreign|another registry" "foreign backup without --foreign" restore "$T/foreign.bak" --yes
grep -q "warning: .*another registry" "$T/err" && ok "foreign: warns" || not_ok "foreign: warns" "$(err)"
expect 0 "foreign backup --foreign --include-secrets" \
	restore "$T/foreign.bak" --foreign --include-secrets --yes
check "foreign: zed restored with its UID" 20000 "$(ufield zed 'd["uid"]')"
check "foreign: zed has no-password (did not exist here)" true "$(ufield zed 'd["no-password"]')"
check "foreign: alice (not in that backup) deleted" absent "$(ufield alice 'd["uid"]')"
check "foreign: PassTicket keys untouched" "$keys_before" "$("$ACCORDCTL" passticket key list --show 2>&1)"
check "foreign: CAs untouched" "$cas_before" "$("$ACCORDCTL" ca list 2>&1)"
check "foreign: secrets store (keys, logon records, replay cache, passwords) untouched" \
	"$sec_before" "$(secrets_state_host)"
# PassTicket permissions are a class restore restores: the foreign
# registry had none, so this one's grant for TSO is gone
check "foreign: PassTicket permissions as in the backup (none)" "" \
	"$("$ACCORDCTL" passticket permits 2>/dev/null | grep -v -e "^No " -e "^APPL " || true)"
expect 0 "foreign --only cas is explicit: trust anchors replaced" \
	restore "$T/foreign.bak" --foreign --only cas --yes
"$ACCORDCTL" ca list >"$T/cas" 2>&1
grep -q foreignca "$T/cas" && ! grep -q localca "$T/cas" && ok "--only cas: the backup's CAs" ||
	not_ok "--only cas: the backup's CAs" "$(cat "$T/cas")"
refused 64 "reapply" "--reapply-since-backup with a foreign backup" \
	restore "$T/foreign.bak" --foreign --reapply-since-backup --yes

# ---- PassTicket keys: only when named -------------------------------------
reset
keys_b1=$("$ACCORDCTL" passticket key list --show 2>&1)
run passticket key set TSO --generate
check "the key changed after the backup" different \
	"$([ "$keys_b1" != "$("$ACCORDCTL" passticket key list --show 2>&1)" ] && echo different)"
keys_new=$("$ACCORDCTL" passticket key list --show 2>&1)
expect 0 "restore with secrets, keys not named" restore "$T/b1s.bak" --include-secrets --yes
check "keys not named: this registry's key kept" "$keys_new" \
	"$("$ACCORDCTL" passticket key list --show 2>&1)"
expect 0 "restore --only ptkeys --include-secrets" \
	restore "$T/b1s.bak" --only ptkeys --include-secrets --yes
check "--only ptkeys: the backup's key is back" "$keys_b1" \
	"$("$ACCORDCTL" passticket key list --show 2>&1)"

# ---- a registered certificate comes back (the backup holds its DER) -------
reset
run certmap register "$T/local.pem" --user carol --label card
[ "$rc" -eq 0 ] || bail "certmap register" "$(err)"
expect 0 "backup with a registration" backup "$T/reg.bak"
expect 0 "the registration deleted" certmap del card --user carol
expect 0 "restore --only certmaps" restore "$T/reg.bak" --only certmaps --yes
expect 0 "the registration is back" certmap show card --user carol
grep -q "Registered certificate" "$T/out" && ok "shown as a registered certificate" ||
	not_ok "shown as a registered certificate" "$(cat "$T/out")"

# ---- damaged backups -------------------------------------------------------
reset
size=$(stat -c %s "$T/b1.bak")
head -c $((size - 20)) "$T/b1.bak" >"$T/trunc.bak"
refused 65 "." "truncated backup" restore "$T/trunc.bak" --yes
cp "$T/b1.bak" "$T/tamper.bak"
printf 'X' | dd of="$T/tamper.bak" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
refused 65 "." "tampered backup" restore "$T/tamper.bak" --yes
refused 66 "." "missing backup" restore "$T/nope.bak" --yes
# a backup anyone may write is not applied, whatever its checksums say
cp "$T/b1.bak" "$T/open.bak"
chmod 0666 "$T/open.bak"
refused 77 "must be owned by root" "group/other-writable backup" restore "$T/open.bak" --yes
ln "$T/b1.bak" "$T/linked.bak"
refused 77 "one link" "hard-linked backup" restore "$T/linked.bak" --yes

finish
