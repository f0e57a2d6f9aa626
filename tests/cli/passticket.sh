#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl passticket: application keys (set from stdin, from argv, by
# generation; list without and with --show; del), the secrets never shown
# or passed in argv, permissions to generate, generate/verify/decode round
# trips, the window, replay protection (--consume) and its opt-out, the
# authorization of a requester (a login UID is set for the child with
# /proc/self/loginuid when this runs as root with CAP_AUDIT_CONTROL), a
# caller that is not root, and refused input leaving the store unchanged.
#
#   passticket.sh ACCORDCTL
. "$(dirname "$0")/lib.sh" "$@"

KEYS=$REG/secrets/ptkeys

# The store as files: names, modes, contents.
store_state() {
	(cd "$REG/secrets" 2>/dev/null && find . -path ./logon -prune -o -print0 | sort -z |
		xargs -0 -r stat -c '%n %a %s %Y' 2>&1
	 cat "$KEYS"/* "$REG/secrets/ptauth"/* 2>/dev/null)
}

# refused CODE PATTERN DESC ARGS...: exit CODE, PATTERN on stderr, the
# store unchanged.
refused() {
	local code=$1 pat=$2 d=$3 before after
	shift 3
	before=$(store_state)
	run "$@"
	after=$(store_state)
	if [ "$rc" -ne "$code" ]; then
		not_ok "$d: exit $code" "accordctl $*" "exit $rc" "stderr: $(head -c 600 "$T/err")"
	elif ! grep -qiE -- "$pat" "$T/err"; then
		not_ok "$d: exit $code, message names the problem" "expected /$pat/ in stderr" \
			"stderr: $(head -c 600 "$T/err")"
	else
		ok "$d: exit $code, \"$(head -1 "$T/err" | cut -c1-90)\""
	fi
	if [ "$before" = "$after" ]; then
		ok "$d: store unchanged"
	else
		not_ok "$d: store unchanged" "$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
}

# As root with the login UID $1 (0: root logged in as root), when this
# process may set it; "skip" otherwise.  Output in $T/out, $T/err, $rc.
can_login=
if [ "$(id -u)" -eq 0 ] && sh -c 'echo 0 >/proc/self/loginuid' 2>/dev/null; then
	can_login=1
fi
as_login() {
	local uid=$1
	shift
	sh -c 'echo "$1" >/proc/self/loginuid && shift && exec "$@"' sh "$uid" \
		"$ACCORDCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	san_check "$T/err" "accordctl $* (login uid $uid)"
}
# As root, however this shell came to be: the login UID set to 0 when we
# can, else as we are (a login UID of another user would make us that user).
root_run() {
	if [ -n "$can_login" ]; then
		as_login 0 "$@"
	else
		run "$@"
	fi
}
lu=$(cat /proc/self/loginuid 2>/dev/null || echo 4294967295)
root_ok=
if [ "$(id -u)" -eq 0 ] && { [ -n "$can_login" ] || [ "$lu" = 4294967295 ] || [ "$lu" = 0 ]; }; then
	root_ok=1
fi

acc init --uid-range 10000-19999 --gid-range 20000-29999 >/dev/null &&
	acc group add ops >/dev/null &&
	acc user add alice >/dev/null &&
	acc user add bob --groups ops >/dev/null &&
	acc user add carol >/dev/null &&
	acc user add averylongname >/dev/null ||
	bail "setting up the registry"
uid_of() { acc --json user show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
ALICE_UID=$(uid_of alice)
BOB_UID=$(uid_of bob)

# ---- key set from stdin, argv, generated ---------------------------------------------------
KEY1=0123456789ABCDEF
acc passticket key set tso --key-hex - <<<"$KEY1" >"$T/out" 2>"$T/err"
check "key set TSO --key-hex - (stdin)" 0 $?
check_true "says it stored a legacy key" grep -q "Stored the legacy PassTicket key of TSO" "$T/out"
check_true "no warning about argv for stdin" test ! -s "$T/err"
check "the key file is mode 0600" 600 "$(stat -c %a "$KEYS/TSO")"
check "ptkeys/ is mode 0700" 700 "$(stat -c %a "$KEYS")"
check "secrets/ is mode 0700" 700 "$(stat -c %a "$REG/secrets")"
check "the file format" "accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=0123456789abcdef" \
	"$(cat "$KEYS/TSO")"
if grep -rqi "$KEY1" "$REG" --exclude-dir=secrets; then
	not_ok "the key is nowhere outside the secrets store"
else
	ok "the key is nowhere outside the secrets store (snapshot, journal)"
fi

expect 0 "key set on the command line still works" passticket key set TSO.OPS --key-hex FEDCBA9876543210
check_true "... with a warning that argv is visible" grep -q "visible to other users" "$T/err"

# the key read from stdin is never in the process's argv (ps)
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
"$ACCORDCTL" passticket key set PSAPPL --key-hex - <&3 >"$T/w.out" 2>"$T/w.err" &
pid=$!
for _ in $(seq 50); do
	grep -q passticket "/proc/$pid/cmdline" 2>/dev/null && break
	sleep 0.1
done
psline=$(ps -o args= -p "$pid")
echo AABBCCDDEEFF0011 >&3
wait "$pid"
prc=$?
exec 3>&-
check "key set --key-hex - from a pipe" 0 "$prc"
case "$psline" in
*passticket*) ok "ps shows the running accordctl" ;;
*) not_ok "ps shows the running accordctl" "ps: $psline" ;;
esac
case "$psline" in
*AABBCCDDEEFF0011* | *aabbccddeeff0011*) not_ok "the key is not in ps output" "ps: $psline" ;;
*) ok "the key is not in ps output (\"$psline\")" ;;
esac

expect 0 "key set --generate" passticket key set CICS --generate
GEN=$(grep -E '^[0-9A-F]{16}$' "$T/out")
check "the generated key is printed once (16 hex digits)" 1 "$(grep -cE '^[0-9A-F]{16}$' "$T/out")"
check_true "with how to install it on z/OS" grep -q "RDEFINE PTKTDATA CICS SSIGNON(KEYMASKED" "$T/out"
expect 0 "key set --generate enhanced, mixed, 300 s" passticket key set ims --generate \
	--algorithm enhanced --type mixed --window 300
check "a 64-byte enhanced key is printed" 1 "$(grep -cE '^[0-9A-F]{128}$' "$T/out")"
expect 0 "key set --no-replay-protection" passticket key set NRP --generate --no-replay-protection
# RACF KEYMASKED input: clear = masked XOR BBFCD18E826660B6
expect 0 "key set --masked" passticket key set MASKED --key-hex BBFCD18E826660B6 --masked

expect 0 "key list" passticket key list
check "key list: 7 keys and a heading" 8 "$(wc -l <"$T/out")"
check_true "key list names TSO.OPS" grep -qE '^TSO\.OPS +legacy' "$T/out"
check_true "key list: IMS is enhanced mixed 300 s" grep -qE '^IMS +enhanced +mixed +300 yes +512' "$T/out"
check_true "key list: NRP has no replay protection" grep -qE '^NRP .* no ' "$T/out"
for k in "$KEY1" FEDCBA9876543210 AABBCCDDEEFF0011 "$GEN"; do
	if grep -qi "$k" "$T/out"; then not_ok "key list does not show $k"; else ok "key list does not show key $k"; fi
done
expect 0 "key list --json" --json passticket key list
check "--json: 7 keys" 7 "$(json_get "$T/out" 'len(d)')"
check "--json: no key field" "[]" "$(json_get "$T/out" '[x for x in d if "key" in x]')"
check "--json: IMS" "enhanced mixed 300 True" \
	"$(json_get "$T/out" '[" ".join([x["algorithm"], x["type"], str(x["window"]), str(x["replay_protection"])]) for x in d if x["profile"] == "IMS"][0]')"
expect 0 "key list --show" passticket key list --show
check_true "--show shows the stdin key" grep -q "TSO .*$KEY1" "$T/out"
check_true "--show shows the piped key" grep -q "PSAPPL .*AABBCCDDEEFF0011" "$T/out"
check_true "--show shows the generated key" grep -q "CICS .*$GEN" "$T/out"
check_true "--show: the masked key was unmasked" grep -q "MASKED .*0000000000000000" "$T/out"

# ---- refused key input ---------------------------------------------------------------------
refused 64 "either --key-hex" "key set: neither --key-hex nor --generate" passticket key set TSO
refused 64 "either --key-hex" "key set: both" passticket key set TSO --generate --key-hex "$KEY1"
refused 64 "legacy.*enhanced" "key set --algorithm des" passticket key set TSO --generate --algorithm des
refused 64 "enhanced keys only" "--type with a legacy key" passticket key set TSO --generate --type mixed
refused 64 "enhanced keys only" "--window with a legacy key" passticket key set TSO --generate --window 300
refused 64 "1 to 600" "--window 0" passticket key set X --generate --algorithm enhanced --window 0
refused 64 "1 to 600" "--window 601" passticket key set X --generate --algorithm enhanced --window 601
refused 64 "1 to 600" "--window abc" passticket key set X --generate --algorithm enhanced --window abc
refused 64 "masked" "--masked with --generate" passticket key set X --generate --masked
refused 64 "unknown option" "an unknown option" passticket key set X --generate --bogus
refused 64 "one profile name" "two profile names" passticket key set X Y --generate
refused 65 "hex" "not hex" passticket key set X --key-hex 0123456789ABCDEG
refused 65 "16|hex" "15 hex digits" passticket key set X --key-hex 0123456789ABCDE
refused 65 "16|hex" "a 64-digit key for legacy" passticket key set X \
	--key-hex 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
refused 65 "64|hex|enhanced" "16 digits for enhanced" passticket key set X --algorithm enhanced --key-hex "$KEY1"
refused 65 "longer than 8|1-8" "a 9-character APPL" passticket key set TOOLONGNA --generate
refused 65 "three parts" "four parts" passticket key set A.B.C.D --generate
refused 65 "character" "a bad character" passticket key set 'TS-O' --generate
acc passticket key set X --key-hex - </dev/null >"$T/out" 2>"$T/err"
check "key set --key-hex - with empty stdin: exit 65" 65 $?
refused 67 "no PassTicket key for NOPE" "key del of a missing key" passticket key del nope
refused 64 "unknown option" "key list --bogus" passticket key list --bogus
refused 64 "set, del or list" "passticket key" passticket key
refused 64 "unknown 'passticket' command" "passticket bogus" passticket bogus

# untrusted: a key file others may read makes list and use fail
chmod 0644 "$KEYS/TSO"
refused 77 "mode 0644" "key list with a key file readable by others" passticket key list
chmod 0600 "$KEYS/TSO"

# ---- permissions ---------------------------------------------------------------------------
expect 0 "permit TSO --group ops" passticket permit tso --group ops
check_true "says permitted" grep -q "Permitted group ops to generate PassTickets for TSO" "$T/out"
expect 0 "permit TSO --group ops again" passticket permit TSO --group ops
check_true "says nothing to change" grep -q "Nothing to change" "$T/out"
expect 0 "permit CICS --user carol" passticket permit CICS --user carol
check "ptauth/TSO is mode 0600" 600 "$(stat -c %a "$REG/secrets/ptauth/TSO")"
expect 0 "permits" passticket permits
check "permits: two lines and a heading" 3 "$(wc -l <"$T/out")"
check_true "permits: TSO group ops" grep -qE '^TSO +group +ops$' "$T/out"
expect 0 "permits TSO --json" --json passticket permits TSO
check "permits TSO --json" '[{"appl": "TSO", "name": "ops", "type": "group"}]' "$(json_get "$T/out" d)"
refused 67 "does not exist" "permit an unknown user" passticket permit TSO --user nosuch
refused 67 "does not exist" "permit an unknown group" passticket permit TSO --group nosuch
refused 64 "--group GROUP or --user" "permit without whom" passticket permit TSO
refused 64 "either --group or --user" "permit with both" passticket permit TSO --user alice --group ops
refused 65 "longer than 8|1-8" "permit a 9-character APPL" passticket permit TOOLONGNA --group ops
expect 0 "permit --remove of nothing" passticket permit TSO --user alice --remove
check_true "says nothing to change" grep -q "Nothing to change" "$T/out"

# ---- generate, verify, decode --------------------------------------------------------------
if [ -z "$root_ok" ]; then
	ok "generate/verify/decode as root: skipped (not root, or a login UID we cannot reset)"
	finish
fi
NOW=$(date +%s)
root_run passticket generate --user bob --appl tso
check "generate as root: exit 0" 0 "$rc"
TK=$(out)
check_true "a ticket of 8 characters A-Z 0-9" grep -qE '^[A-Z0-9]{8}$' "$T/out"
expect 0 "verify" passticket verify --user bob --appl TSO --ticket "$TK"
check_true "verify says valid, key TSO" grep -qE '^valid: .*key TSO' "$T/out"
expect 0 "verify in lower case (legacy tickets fold)" passticket verify --user bob --appl tso \
	--ticket "$(tr A-Z a-z <<<"$TK")"
root_run --json passticket generate --user bob --appl TSO --time 1700000000
GT=$(json_get "$T/out" 'd["ticket"]')
check "generate --json: time" 1700000000 "$(json_get "$T/out" 'd["time"]')"
check "generate --json: profile" TSO "$(json_get "$T/out" 'd["profile"]')"
expect 0 "decode" passticket decode --user bob --appl TSO --ticket "$GT"
check_true "decode prints the epoch" grep -q '(1700000000)' "$T/out"
check_true "decode prints ISO time" grep -q '2023-11-14T22:13:20Z' "$T/out"
check_true "decode prints the skew" grep -qE '^skew: +-[0-9]+ s from now \(outside' "$T/out"
expect 0 "decode --json" --json passticket decode --user bob --appl TSO --ticket "$GT" --time 1700000100
check "decode --json: time" 1700000000 "$(json_get "$T/out" 'd["time"]')"
check "decode --json: skew" -100 "$(json_get "$T/out" 'd["skew"]')"
# the window: +-600 s inclusive
expect 0 "verify at t+600" passticket verify --user bob --appl TSO --ticket "$GT" --time 1700000600
expect 0 "verify at t-600" passticket verify --user bob --appl TSO --ticket "$GT" --time 1699999400
expect 1 "verify at t+601" passticket verify --user bob --appl TSO --ticket "$GT" --time 1700000601
check_true "says outside the window" grep -q "outside the window" "$T/out"
expect 1 "verify at t-601" passticket verify --user bob --appl TSO --ticket "$GT" --time 1699999399
root_run passticket generate --user bob --appl TSO --time $((NOW - 601))
OLD=$(out)
expect 1 "a ticket generated 601 s ago is refused" passticket verify --user bob --appl TSO --ticket "$OLD"
expect 1 "another user's ticket is refused" passticket verify --user alice --appl TSO --ticket "$TK"
check_true "says not a PassTicket of ALICE" grep -q "not a PassTicket of ALICE for TSO" "$T/out"
expect 1 "a ticket for another application is refused" passticket verify --user bob --appl CICS --ticket "$TK"
expect 1 "a ticket of 7 characters is refused" passticket verify --user bob --appl TSO --ticket ABCDEFG
# qualified keys: bob's group ops has TSO.OPS
root_run --json passticket generate --user bob --appl TSO --time 1700000000
check "bob's primary group is bob: key TSO" TSO "$(json_get "$T/out" 'd["profile"]')"
acc passticket key set TSO.BOB --generate >/dev/null
root_run --json passticket generate --user bob --appl TSO
check "APPL.USER takes precedence" TSO.BOB "$(json_get "$T/out" 'd["profile"]')"
QT=$(json_get "$T/out" 'd["ticket"]')
expect 0 "verify with the qualified key" passticket verify --user bob --appl TSO --ticket "$QT"
check_true "verify names TSO.BOB" grep -q "key TSO.BOB" "$T/out"
# a ticket made with the plain APPL key still validates (RACF's fallback)
expect 0 "verify falls back to the APPL key" passticket verify --user bob --appl TSO --ticket "$TK"
check_true "verify names TSO" grep -qE "key TSO;" "$T/out"
acc passticket key del TSO.BOB >/dev/null

# replay protection
root_run passticket generate --user alice --appl TSO
RT=$(out)
expect 0 "verify without --consume" passticket verify --user alice --appl TSO --ticket "$RT"
expect 0 "verify without --consume again (cache untouched)" passticket verify --user alice --appl TSO --ticket "$RT"
expect 0 "verify --consume" passticket verify --user alice --appl TSO --ticket "$RT" --consume
check_true "says consumed" grep -q "consumed" "$T/out"
check "replay/ is mode 0700" 700 "$(stat -c %a "$REG/secrets/replay")"
expect 1 "verify --consume again: replay" passticket verify --user alice --appl TSO --ticket "$RT" --consume
check_true "says replayed" grep -q "replayed" "$T/out"
expect 1 "... also in lower case" passticket verify --user alice --appl TSO --ticket "$(tr A-Z a-z <<<"$RT")" --consume
expect 0 "--json verify --consume of another ticket" --json passticket verify --user bob --appl TSO --ticket "$TK" --consume
check "--json: consumed" true "$(json_get "$T/out" 'd["consumed"]')"
root_run passticket generate --user alice --appl NRP
NT=$(out)
expect 0 "no replay protection: first use" passticket verify --user alice --appl NRP --ticket "$NT" --consume
expect 0 "no replay protection: second use" passticket verify --user alice --appl NRP --ticket "$NT" --consume
check_true "says it may be used again" grep -q "may be used again" "$T/out"
# enhanced, mixed
root_run passticket generate --user alice --appl IMS
ET=$(out)
check_true "an enhanced mixed ticket" grep -qE '^[0-9A-Za-z_-]{8}$' "$T/out"
expect 0 "verify the enhanced ticket" passticket verify --user alice --appl IMS --ticket "$ET" --consume
expect 1 "and not twice" passticket verify --user alice --appl IMS --ticket "$ET" --consume

# a revoked user still gets tickets (RACF does); logon is pam_accord's business
acc user revoke carol >/dev/null
root_run passticket generate --user carol --appl TSO
check "generate for a revoked user: exit 0" 0 "$rc"

# refusals
root_run passticket generate --user averylongname --appl TSO
check "generate for a name that is no RACF ID: exit 65" 65 "$rc"
check_true "says how to set a racf-id alias" grep -q -- "--racf-id ID" "$T/err"

# racf-id aliases: a long Linux name gets a RACF user ID of its own
expect 0 "user add longname-user --racf-id longusr" user add longname-user --racf-id longusr
expect 0 "user show prints the alias" user show longname-user
check_true "racf id: LONGUSR" grep -qE '^racf id: +LONGUSR$' "$T/out"
expect 0 "user show --json" --json user show longname-user
check "user show --json: racf_id" LONGUSR "$(json_get "$T/out" 'd["racf_id"]')"
root_run --json passticket generate --user longname-user --appl TSO --time 1700000000
check "generate for longname-user: exit 0" 0 "$rc"
LT=$(json_get "$T/out" 'd["ticket"]')
check "generate --json: racf_user is the alias" LONGUSR "$(json_get "$T/out" 'd["racf_user"]')"
expect 0 "verify accepts the alias's ticket" passticket verify --user longname-user --appl TSO \
	--ticket "$LT" --time 1700000000
expect 0 "decode the alias's ticket" passticket decode --user longname-user --appl TSO \
	--ticket "$LT" --time 1700000000
expect 1 "another user's ticket is refused for the alias" passticket verify --user longname-user \
	--appl TSO --ticket "$GT" --time 1700000000
root_run passticket generate --user longname-user --appl TSO
LT=$(out)
expect 0 "verify a current ticket of the alias" passticket verify --user longname-user --appl TSO \
	--ticket "$LT"
refused 65 "already the alias of user 'longname-user'" "a second profile with the same alias" \
	user mod averylongname --racf-id LONGUSR
refused 65 "user ID of user 'bob'" "an alias that is another profile's name" \
	user mod averylongname --racf-id BOB
refused 65 "already the alias" "a new profile named like an alias" user add longusr
refused 65 "longer than 8" "an alias that is no RACF ID" user mod averylongname --racf-id TOOLONGID
expect 0 "user mod --racf-id none clears the alias" user mod longname-user --racf-id none
expect 0 "user show after clearing" user show longname-user
check_true "racf id: -" grep -qE '^racf id: +-$' "$T/out"
root_run passticket generate --user longname-user --appl TSO
check "generate without the alias: exit 65" 65 "$rc"
expect 0 "user mod averylongname --racf-id LONGUSR (free again)" user mod averylongname --racf-id LONGUSR
root_run passticket generate --user nosuch --appl TSO
check "generate for an unknown user: exit 67" 67 "$rc"
root_run passticket generate --user bob --appl NOKEY
check "generate without a key: exit 67" 67 "$rc"
check_true "says no key" grep -q "no PassTicket key for NOKEY" "$T/err"
refused 64 "needs --user USER and --appl" "generate without --appl" passticket generate --user bob
refused 64 "seconds since 1970" "generate --time -5" passticket generate --user bob --appl TSO --time -5
refused 64 "seconds since 1970" "generate --time 1e9" passticket generate --user bob --appl TSO --time 1e9
refused 64 "unknown option" "generate --consume" passticket generate --user bob --appl TSO --consume
refused 64 "needs --ticket" "verify without --ticket" passticket verify --user bob --appl TSO
refused 67 "does not exist" "verify for an unknown user" passticket verify --user nosuch --appl TSO --ticket ABCDEFGH

# ---- who may generate: the login UID ---------------------------------------------------------
if [ -n "$can_login" ]; then
	as_login "$ALICE_UID" passticket generate --user bob --appl TSO
	check "alice (login UID) not permitted for TSO: exit 77" 77 "$rc"
	check_true "says not authorized to generate PassTickets for TSO" \
		grep -q "not authorized to generate PassTickets for TSO" "$T/err"
	check "nothing on stdout" "" "$(out)"
	as_login "$BOB_UID" passticket generate --user alice --appl TSO
	check "bob (member of permitted group ops): exit 0" 0 "$rc"
	as_login "$BOB_UID" passticket generate --user alice --appl CICS
	check "bob not permitted for CICS: exit 77" 77 "$rc"
	as_login 54321 passticket generate --user alice --appl TSO
	check "a login UID that is no profile: exit 77" 77 "$rc"
	check_true "says the requester is no profile" grep -q "not a profile of the registry" "$T/err"
	acc passticket permit TSO --user alice >/dev/null
	as_login "$ALICE_UID" passticket generate --user bob --appl TSO
	check "alice permitted by user entry: exit 0" 0 "$rc"
	acc passticket permit TSO --user alice --remove >/dev/null
	as_login "$ALICE_UID" passticket generate --user bob --appl TSO
	check "alice after permit --remove: exit 77" 77 "$rc"
	as_login 0 passticket generate --user bob --appl TSO
	check "login UID 0 is root: exit 0" 0 "$rc"
else
	ok "login UID cases: skipped (cannot set /proc/self/loginuid; test_ptstore covers the decision)"
fi

# ---- not root: the keys are root's -----------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	chmod 0755 "$T" && chmod -R a+rX "$REG/snap" "$REG/CURRENT" "$REG/registry.meta" 2>/dev/null
	setpriv --reuid=nobody --regid=nogroup --clear-groups env ACCORD_CONF="$T/accord.conf" \
		"$ACCORDCTL" passticket generate --user bob --appl TSO >"$T/out" 2>"$T/err"
	rc=$?
	check "not root: generate exits 77" 77 "$rc"
	if grep -qi "owned by" "$T/err"; then
		ok "not root: the registry itself refuses a caller that does not own it"
	else
		check_true "not root: says only root may read the keys" grep -q "only root" "$T/err"
	fi
	setpriv --reuid=nobody --regid=nogroup --clear-groups env ACCORD_CONF="$T/accord.conf" \
		"$ACCORDCTL" passticket key list >"$T/out" 2>"$T/err"
	check "not root: key list exits 77" 77 $?
fi

finish
