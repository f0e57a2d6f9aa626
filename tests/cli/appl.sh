#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Applications (the RACF APPL class) and swap rules through accordctl:
# appl add/mod/permit/revoke-access/show/list/del, text and --json; the
# warning on a grant to a user; refusals (unknown group, user or
# application, bad access value, --group with --user) that change nothing;
# the entries of a deleted group or user leave every application; swap
# permit/deny/del/list and swap_never.
#
#   appl.sh ACCORDCTL
. "$(dirname "$0")/lib.sh" "$@"

# The registry as a reader sees it, applications and swap rules included.
state() {
	registry_state
	echo "== appls"
	"$ACCORDCTL" --json appl list 2>&1
	echo "== swaps"
	"$ACCORDCTL" --json swap list 2>&1
}

# write DESC ARGS...: succeeds with exactly one new generation.
write() {
	local d=$1 g0
	shift
	g0=$(generation)
	expect 0 "$d" "$@" || return 1
	check "$d: one new generation" "$((g0 + 1))" "$(generation)"
}
# unchanged DESC PATTERN ARGS...: exit 0, PATTERN on stdout, no generation.
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
# refused CODE PATTERN DESC ARGS...: exit CODE, PATTERN (grep -Ei) on
# stderr, the registry exactly as it was.
refused() {
	local code=$1 pat=$2 d=$3 before after
	shift 3
	before=$(state)
	run "$@"
	after=$(state)
	if [ "$rc" -ne "$code" ]; then
		not_ok "$d: exit $code" "accordctl $*" "exit $rc" "stderr: $(head -c 600 "$T/err")"
	elif ! grep -qiE -- "$pat" "$T/err"; then
		not_ok "$d: exit $code, message names the problem" "expected /$pat/ in stderr" \
			"stderr: $(head -c 600 "$T/err")"
	else
		ok "$d: exit $code, \"$(head -1 "$T/err" | cut -c1-90)\""
	fi
	if [ "$before" = "$after" ]; then
		ok "$d: registry unchanged"
	else
		not_ok "$d: registry unchanged" "$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
}
# json DESC ARGS...: --json ARGS succeeds; the document is in $T/json.
json() {
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
jcheck() {
	check "$1" "$3" "$(json_get "$T/json" "$2")"
}

acc init --uid-range 10000-19999 --gid-range 20000-29999 >/dev/null &&
	acc group add ops >/dev/null &&
	acc group add dev >/dev/null &&
	acc user add alice --groups ops >/dev/null &&
	acc user add bob >/dev/null ||
	bail "setting up the registry"

# ---- appl add, show, list -------------------------------------------------------
write "appl add sshd" appl add sshd
check_true "appl add: says uacc none" grep -q "uacc none" "$T/out"
write "appl add login --uacc read" appl add login --uacc read
json "appl show sshd" appl show sshd
jcheck "sshd: name" 'd["name"]' sshd
jcheck "sshd: default uacc none" 'd["uacc"]' none
jcheck "sshd: no entries" 'd["entries"]' '[]'
jcheck "sshd: created is ISO UTC" 'd["created"].endswith("Z")' true
json "appl show login" appl show login
jcheck "login: uacc read" 'd["uacc"]' read
refused 65 "exists" "appl add of an existing application" appl add sshd
refused 64 "'none' or 'read'" "appl add --uacc write" appl add ftp --uacc write
refused 64 "'none' or 'read'" "appl add --uacc NONE (case)" appl add ftp --uacc NONE
refused 65 "upper|lower" "appl add with an invalid name" appl add SSHD
refused 64 "unknown option" "appl add --access (not an add option)" appl add ftp --access read
refused 64 "missing" "appl add without a name" appl add
refused 64 "one application name" "appl add with two names" appl add ftp ssh

# ---- permit, revoke-access ----------------------------------------------------------
write "appl permit sshd --group ops" appl permit sshd --group ops
if [ -s "$T/err" ]; then
	not_ok "a grant to a group warns nothing" "stderr: $(err)"
else
	ok "a grant to a group warns nothing"
fi
unchanged "the same grant again" "already has read access" appl permit sshd --group ops --access read
write "appl permit sshd --user bob" appl permit sshd --user bob
check_true "a grant to a user warns and suggests a group" \
	grep -q "warning: access granted to user bob; RACF practice is to permit a group" "$T/err"
check_true "the warning names appl permit --group" \
	grep -q "appl permit sshd --group" "$T/err"
write "appl permit sshd --group dev --access none" appl permit sshd --group dev --access none
json "appl show sshd after the grants" appl show sshd
jcheck "three entries" 'len(d["entries"])' 3
jcheck "ops has read" '[e["access"] for e in d["entries"] if e["type"] == "group" and e["name"] == "ops"]' '["read"]'
jcheck "dev has none" '[e["access"] for e in d["entries"] if e["type"] == "group" and e["name"] == "dev"]' '["none"]'
jcheck "bob has read (user entry)" '[e["access"] for e in d["entries"] if e["type"] == "user"]' '["read"]'
write "appl permit changes an entry's access" appl permit sshd --group dev --access read
json "appl show sshd" appl show sshd
jcheck "dev has read now" '[e["access"] for e in d["entries"] if e["name"] == "dev"]' '["read"]'

expect 0 "appl show (text)" appl show sshd
check_true "text: uacc line" grep -qE '^uacc: +none$' "$T/out"
check_true "text: group ops entry" grep -qE '^  group +ops +read$' "$T/out"
check_true "text: user bob entry" grep -qE '^  user +bob +read$' "$T/out"
expect 0 "appl list (text)" appl list
check_true "list: sshd with 3 entries" grep -qE '^sshd +none +3$' "$T/out"
check_true "list: login with uacc read" grep -qE '^login +read +0$' "$T/out"
json "appl list" appl list
jcheck "list: two applications" 'sorted(a["name"] for a in d)' '["login", "sshd"]'

refused 67 "does not exist|no such|not exist" "permit to an unknown group" appl permit sshd --group nogroup
refused 67 "does not exist|no such|not exist" "permit to an unknown user" appl permit sshd --user nouser
refused 67 "not defined|does not exist|no such" "permit on an unknown application" appl permit ftp --group ops
refused 64 "'none' or 'read'" "permit with a bad access value" appl permit sshd --group ops --access update
refused 64 "either --group or --user" "permit with --group and --user" appl permit sshd --group ops --user bob
refused 64 "either --group or --user" "permit with --group twice" appl permit sshd --group ops --group dev
refused 64 "--group GROUP or --user USER" "permit without --group or --user" appl permit sshd
refused 64 "needs a value" "permit --group without a value" appl permit sshd --group
refused 64 "unknown option" "revoke-access --access" appl revoke-access sshd --group ops --access read
refused 67 "not defined|does not exist|no such" "revoke-access on an unknown application" appl revoke-access ftp --group ops
refused 67 "not defined|does not exist" "show of an unknown application" appl show ftp
refused 64 "unknown 'appl' command" "appl frobnicate" appl frobnicate

write "appl revoke-access sshd --group dev" appl revoke-access sshd --group dev
refused 67 "no entry" "revoke-access of an entry that is not there" appl revoke-access sshd --group dev

# ---- mod --------------------------------------------------------------------------
write "appl mod sshd --uacc read" appl mod sshd --uacc read
unchanged "appl mod to the same uacc" "already has uacc read" appl mod sshd --uacc read
write "appl mod sshd --uacc none" appl mod sshd --uacc none
refused 64 "nothing to change" "appl mod without --uacc" appl mod sshd

# ---- --json write output --------------------------------------------------------------
json "--json appl permit" appl permit sshd --group dev
jcheck "--json write: message" 'd["message"].startswith("Permitted group dev")' true
jcheck "--json write: one change" 'd["changes"]' 1
jcheck "--json write: the new generation" 'd["generation"]' "$(generation)"

# ---- cascade: deleting a group or a user removes its entries ---------------------------
write "group del dev" group del dev
json "appl show sshd after group del dev" appl show sshd
jcheck "dev's entry is gone" '[e["name"] for e in d["entries"] if e["type"] == "group"]' '["ops"]'
write "user del bob" user del bob
json "appl show sshd after user del bob" appl show sshd
jcheck "bob's entry is gone" '[e["name"] for e in d["entries"] if e["type"] == "user"]' '[]'
expect 0 "log shows the cascade" log --since "$(($(generation) - 1))"
check_true "the journal records the change of sshd" grep -q "sshd" "$T/out"

# ---- del --------------------------------------------------------------------------
write "appl del login" appl del login
check_true "appl del says logons are no longer checked" grep -q "no longer checked" "$T/out"
refused 67 "not defined|does not exist|no such" "appl del of an unknown application" appl del login
json "appl list after del" appl list
jcheck "only sshd is left" '[a["name"] for a in d]' '["sshd"]'

# ---- swap -------------------------------------------------------------------------
write "swap permit --from ops --to root" swap permit --from ops --to root
write "swap deny --from ops --to alice" swap deny --from ops --to alice
unchanged "swap permit again" "already permit" swap permit --from ops --to root
write "swap deny turns a permit into a deny" swap deny --from ops --to root
write "swap permit turns it back" swap permit --from ops --to root
expect 0 "swap list (text)" swap list
check_true "list: the permit rule" grep -qE '^permit +ops +root ' "$T/out"
check_true "list: the deny rule" grep -qE '^deny +ops +alice ' "$T/out"
json "swap list" swap list
jcheck "two rules" 'len(d)' 2
jcheck "rule fields" 'sorted((r["kind"], r["from"], r["to"]) for r in d)' '[["deny", "ops", "alice"], ["permit", "ops", "root"]]'
refused 67 "group 'nogroup' does not exist" "swap permit from an unknown group" swap permit --from nogroup --to root
refused 64 "--from GROUP and --to PROFILE" "swap permit without --to" swap permit --from ops
refused 64 "--from GROUP and --to PROFILE" "swap deny without --from" swap deny --to root
refused 64 "unknown option" "swap permit --group" swap permit --group ops --to root
refused 64 "takes only" "swap permit with an extra argument" swap permit --from ops --to root extra
refused 64 "unknown 'swap' command" "swap allow" swap allow --from ops --to root
# refused with 65 or 67 depending on how the library names it; the registry
# must not change either way
run swap permit --from ops --to 'Bad:Name'
if [ "$rc" -eq 65 ]; then ok "swap to an invalid name: exit 65"; else not_ok "swap to an invalid name: exit 65" "exit $rc" "$(err)"; fi
write "swap del" swap del --from ops --to alice
refused 67 "no swap rule" "swap del of a rule that is not there" swap del --from ops --to alice
json "swap list after del" swap list
jcheck "one rule left" '[r["to"] for r in d]' '["root"]'

# swap_never: a permit to such a profile warns
printf 'registry = %s\nsnapshot = %s\nswap_never = root,admin\n' "$REG" "$SNAP" >"$T/never.conf"
chmod 0644 "$T/never.conf"
ACCORD_CONF=$T/never.conf run swap permit --from ops --to admin
check "swap permit to a swap_never profile: exit 0" 0 "$rc"
check_true "it warns about swap_never" grep -q "swap_never" "$T/err"
ACCORD_CONF=$T/never.conf run swap list
check_true "swap list names swap_never" grep -q "(swap_never in accord.conf): root,admin" "$T/out"
check_true "swap list marks a rule to a swap_never profile" grep -qE '^permit +ops +admin .*\(swap_never: no effect\)$' "$T/out"

# cascade: deleting the group drops its swap rules
write "group del ops" group del ops
json "swap list after group del ops" swap list
jcheck "ops's rules are gone" 'd' '[]'
json "appl show sshd after group del ops" appl show sshd
jcheck "no entries left" 'd["entries"]' '[]'

expect 0 "check passes" check
finish
