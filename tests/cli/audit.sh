#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl audit: reads a hand-written JSON-lines audit file (as
# pam_accord writes it) with --user, --since, --json and --file; a
# malformed line is reported with its line number and the rest is still
# printed; no audit_file configured, a missing file and bad options are
# refused.  The command needs no registry.
#
#   audit.sh ACCORDCTL
. "$(dirname "$0")/lib.sh" "$@"

AUDIT=$T/audit.log
printf 'registry = %s\nsnapshot = %s\naudit_file = %s\n' "$REG" "$SNAP" "$AUDIT" >"$T/accord.conf"

rec() { # time phase result reason user job current rhost generation
	printf '{"time":"%s","host":"node1","service":"sshd","appl":"sshd","phase":"%s","method":"password","result":"%s","reason":"%s","user":"%s","job_user":"%s","current_user":"%s","rhost":"%s","tty":"ssh","granting":"","generation":%s,"failures":-1}\n' "$@"
}
{
	rec 2026-11-20T09:00:00Z auth success ok alice alice alice 10.0.0.1 7
	rec 2026-11-20T09:00:01Z account success ok alice alice alice 10.0.0.1 7
	echo 'this is not json'
	rec 2026-11-21T10:00:00Z auth failure bad_secret bob bob bob 10.0.0.2 8
	echo ''
	echo '{"phase":"auth","result":"failure"}'
	rec 2026-11-22T11:30:00Z account failure appl_denied root alice root "" 9
} >"$AUDIT"
chmod 0600 "$AUDIT"

# ---- everything --------------------------------------------------------------------------
run audit
check "audit with malformed lines: exit 65" 65 "$rc"
check "four records printed" 4 "$(wc -l <"$T/out")"
check_true "the malformed line is named with its number" grep -q "audit.log:3: not a JSON object" "$T/err"
check_true "a record without time is named" grep -q 'audit.log:6: no valid "time"' "$T/err"
check_true "the count of skipped lines" grep -q "2 malformed lines skipped" "$T/err"
check "plain line: fields in order" \
	"2026-11-21T10:00:00Z failure bad_secret auth bob (bob -> bob) sshd/sshd password 10.0.0.2 ssh gen=8 host=node1" \
	"$(sed -n 3p "$T/out")"
check_true "an empty field is '-'" grep -q "appl_denied account root (alice -> root) sshd/sshd password - ssh gen=9" "$T/out"

# the good lines alone: exit 0
grep -v -e 'not json' -e '^$' -e '"phase":"auth","result"' "$AUDIT" >"$T/good.log"
chmod 0600 "$T/good.log"
expect 0 "audit --file of a clean file" audit --file "$T/good.log"
check "clean file: four records" 4 "$(wc -l <"$T/out")"
check "clean file: nothing on stderr" "" "$(err)"

# ---- --user ------------------------------------------------------------------------------
expect 0 "audit --user bob" audit --file "$T/good.log" --user bob
check "--user bob: one record" 1 "$(wc -l <"$T/out")"
expect 0 "audit --user alice" audit --file "$T/good.log" --user alice
check "--user alice: user or job_user (three records)" 3 "$(wc -l <"$T/out")"
expect 0 "audit --user nobody" audit --file "$T/good.log" --user nobody
check "--user nobody: nothing" 0 "$(wc -l <"$T/out")"

# ---- --since -----------------------------------------------------------------------------
expect 0 "audit --since a date" audit --file "$T/good.log" --since 2026-11-21
check "--since 2026-11-21: two records" 2 "$(wc -l <"$T/out")"
expect 0 "audit --since date and time" audit --file "$T/good.log" --since '2026-11-21 10:00'
check "--since 2026-11-21 10:00: at or after (two)" 2 "$(wc -l <"$T/out")"
expect 0 "audit --since ISO" audit --file "$T/good.log" --since 2026-11-21T10:00:01Z
check "--since 10:00:01: one" 1 "$(wc -l <"$T/out")"
expect 0 "audit --since @epoch" audit --file "$T/good.log" --since @0
check "--since @0: all four" 4 "$(wc -l <"$T/out")"
expect 0 "audit --user and --since" audit --file "$T/good.log" --user alice --since 2026-11-21
check "--user alice --since 2026-11-21: one" 1 "$(wc -l <"$T/out")"

# ---- --json: the stored lines --------------------------------------------------------------
expect 0 "audit --json" --json audit --file "$T/good.log"
if cmp -s "$T/out" "$T/good.log"; then
	ok "--json prints the stored lines as they are"
else
	not_ok "--json prints the stored lines as they are" "$(diff "$T/good.log" "$T/out" | head)"
fi
check_true "--json: every line parses" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    assert isinstance(json.loads(l), dict)
' "$T/out"
run --json audit --user bob
check "--json with malformed lines: exit 65" 65 "$rc"
check "--json --user bob: one line" 1 "$(wc -l <"$T/out")"
check_true "--json: stdout stays JSON lines" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    json.loads(l)
' "$T/out"

# ---- refusals ----------------------------------------------------------------------------
expect 64 "--since that does not parse" audit --since yesterday
check_true "--since: says what it takes" grep -q "takes a date and time" "$T/err"
expect 64 "--user without a value" audit --user
expect 64 "an unknown option" audit --follow
expect 64 "an extra argument" audit alice
expect 66 "a missing file" audit --file "$T/nonexistent.log"
check_true "a missing file: named" grep -q "nonexistent.log" "$T/err"
printf 'registry = %s\nsnapshot = %s\n' "$REG" "$SNAP" >"$T/noaudit.conf"
ACCORD_CONF=$T/noaudit.conf run audit
check "no audit_file configured: exit 78" 78 "$rc"
check_true "no audit_file: says how to set it" grep -q "audit_file = PATH" "$T/err"
ACCORD_CONF=$T/noaudit.conf run audit --file "$T/good.log"
check "no audit_file, but --file: exit 0" 0 "$rc"
ln -s "$T/good.log" "$T/link.log"
expect 77 "a symbolic link is refused" audit --file "$T/link.log"
: >"$T/empty.log"
expect 0 "an empty file" audit --file "$T/empty.log"
check "an empty file: no output" "" "$(out)"
finish
