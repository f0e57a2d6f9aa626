#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Certificate maps from the shell (accordctl certmap, ca, crl): CAs with
# their three statuses and CRLs (PEM, DER, older, unknown CA); maps in
# RACF dotted form, RFC 4514 and --from-cert, with their warnings; LISTMAP
# layout and --json; alter, del, register; `certmap test` line by line
# (chain verdict, every probe, winner, user, exit status) and its --json;
# MULTIID with criteria; the RACF example imported; refused commands that
# change nothing; the journal; user del taking its maps with it.
#
#   certmap.sh ACCORDCTL MKCERT RACF-EXAMPLE
#
# Certificates come from mkcert (tests/tools/mkcert.c) with fixed serials,
# so every line of `certmap test` but the SHA-256 (computed here) is known.
# shellcheck source=../cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh" "$@"

MKCERT=${EXTRA[0]:-}
EXAMPLE=${EXTRA[1]:-}
[ -x "$MKCERT" ] || bail "no mkcert executable given (argument 2)"
[ -f "$EXAMPLE" ] || bail "no RACF example file given (argument 3)"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }

C=$T/certs
mkdir -p "$C"

# ---- helpers --------------------------------------------------------------------

# mk KIND NAME ARGS...: mkcert KIND $C/NAME ARGS (CA prefixes are names in $C).
mk() {
	local kind=$1 name=$2
	shift 2
	"$MKCERT" "$kind" "$C/$name" "$@" >/dev/null 2>"$T/mkerr" ||
		bail "mkcert $kind $name" "$(cat "$T/mkerr")"
}
sha256() {
	python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
}

# What a refused command must leave alone: the published generation (CURRENT
# and the journal) and everything the certificate commands show.
state() {
	{
		cat "$REG/CURRENT"
		echo "== log"
		"$ACCORDCTL" log
		echo "== maps"
		"$ACCORDCTL" --json certmap list
		echo "== criteria"
		"$ACCORDCTL" --json certmap criteria list
		echo "== cas"
		"$ACCORDCTL" --json ca list
		echo "== crls"
		"$ACCORDCTL" --json crl list
	} 2>&1
}
# write DESC ARGS...: exit 0 and exactly one new generation.
write() {
	local d=$1 g0
	shift
	g0=$(generation)
	expect 0 "$d" "$@" || return 1
	check "$d: one new generation" "$((g0 + 1))" "$(generation)"
}
# unchanged DESC TEXT ARGS...: exit 0, stdout exactly TEXT, no new generation.
unchanged() {
	local d=$1 text=$2 g0
	shift 2
	g0=$(generation)
	expect 0 "$d" "$@"
	check "$d: says so" "$text" "$(out)"
	check "$d: no new generation" "$g0" "$(generation)"
}
# refused CODE MESSAGE DESC ARGS...: exit CODE, stderr's first line exactly
# "accordctl: MESSAGE", nothing on stdout, the state byte for byte as before.
refused() {
	local code=$1 msg=$2 d=$3 before after
	shift 3
	before=$(state)
	run "$@"
	after=$(state)
	if [ "$rc" -eq "$code" ]; then
		ok "$d: exit $code"
	else
		not_ok "$d: exit $code" "accordctl $*" "exit $rc" "stderr: $(head -c 600 "$T/err")"
	fi
	check "$d: message" "accordctl: $msg" "$(head -1 "$T/err")"
	check "$d: nothing on stdout" "" "$(out)"
	if [ "$before" = "$after" ]; then
		ok "$d: registry unchanged"
	else
		not_ok "$d: registry unchanged" "$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
}
# json DESC ARGS...: --json ARGS exits 0 (or $JSON_RC) with a valid
# document, kept in $T/json.
JSON_RC=0
json() {
	local d=$1
	shift
	expect "$JSON_RC" "$d" --json "$@"
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>"$T/pyerr"; then
		ok "$d: valid JSON"
	else
		not_ok "$d: valid JSON" "$(cat "$T/pyerr")" "$(head -c 400 "$T/out")"
	fi
	cp "$T/out" "$T/json"
}
jcheck() {
	check "$1" "$3" "$(json_get "$T/json" "$2")"
}
# stderr_is DESC TEXT: the last run's stderr is exactly TEXT.
stderr_is() {
	check "$1" "$2" "$(err)"
}
W_SHORT="accordctl: warning: a subject-only filter of 2 or fewer components maps certificates from every trusted CA"
W_MANY="accordctl: warning: a subject-only filter matches certificates from every trusted CA (more than one is trusted)"

# ---- certificates ----------------------------------------------------------------

EX_DN="CN=Example Issuing CA 1,O=Example Ltd,C=GB"
EX_DOT="CN=Example Issuing CA 1.O=Example Ltd.C=GB"
EX_KEY="CN=example issuing ca 1,O=example ltd,C=gb"
PA_DN='OU=Partner Class 1 Subscriber,O=Partner\, Inc.,L=Internet'
mk ca example --subject "/C=GB/O=Example Ltd/CN=Example Issuing CA 1"
mk ca other --subject "/C=US/O=Other/CN=Other CA"
mk ca high --subject "/C=US/O=High/CN=High CA"
mk ca fourth --subject "/CN=Fourth CA"
mk ca partner --subject "/L=Internet/O=Partner, Inc./OU=Partner Class 1 Subscriber"
mk ca unknown --subject "/CN=Unknown CA"
mk leaf alice --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Operations/CN=alice" --serial 100
mk leaf expired --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Operations/CN=alice" \
	--serial 101 --days -1
mk leaf stranger --ca "$C/unknown" --subject "/C=GB/O=Example Ltd/OU=Operations/CN=alice" \
	--serial 102
mk leaf dave --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Dev/CN=dave" --serial 200
mk leaf zed --ca "$C/high" --subject "/C=FR/O=Nobody/CN=zed" --serial 300
mk leaf zed2 --ca "$C/example" --subject "/C=FR/O=Nobody/CN=zed" --serial 301
mk leaf x10 --ca "$C/example" --subject "/C=GB/O=Z/OU=Y/CN=x10" --serial 400
mk leaf acme --ca "$C/example" --subject "/C=GB/O=Acme Inc./CN=acme" --serial 501
mk leaf bot --ca "$C/partner" --subject "/C=US/O=Partner, Inc./CN=bot" --serial 500
echo "this is not a certificate" >"$C/junk.crt"

acc init --uid-range 10000-19999 --gid-range 20000-29999 >/dev/null || bail "accordctl init"
for u in alice bob carol dave webuser; do
	acc user add "$u" >/dev/null || bail "user add $u"
done

# ---- ca add, list, alter, del ------------------------------------------------------------

write "ca add (PEM, TRUST)" ca add "$C/example.crt" --label example
check "ca add: message" "Added the CA as example (trust) (generation $(generation))" "$(out)"
write "ca add --notrust (DER)" ca add "$C/other.der" --label other --notrust
check "ca add --notrust: message" "Added the CA as other (notrust) (generation $(generation))" "$(out)"
write "ca add --hightrust without a label" ca add "$C/high.crt" --hightrust
check "ca add --hightrust: message" "Added the CA as CA1 (hightrust) (generation $(generation))" "$(out)"
write "ca add partner CA" ca add "$C/partner.crt" --label partner
refused 65 "this certificate is not a CA certificate (a version 3 certificate with basicConstraints CA:TRUE is needed)" \
	"ca add of a leaf" ca add "$C/alice.crt" --label leaf
refused 65 "this CA is already in the registry as 'example'" \
	"ca add of the same CA (DER) under another label" ca add "$C/example.der" --label again
refused 65 "a CA labelled 'example' exists" "ca add with a label in use" \
	ca add "$C/fourth.crt" --label example
refused 64 "give one of --trust, --notrust, --hightrust" "ca add with two statuses" \
	ca add "$C/fourth.crt" --trust --notrust

json "ca list" ca list
jcheck "ca list: four CAs in order" '[c["status"] for c in d]' '["trust", "notrust", "hightrust", "trust"]'
jcheck "ca list: labels" '[c["label"] for c in d][:2] + [c["label"] for c in d][3:]' '["example", "other", "partner"]'
jcheck "ca list: a generated label" '__import__("re").fullmatch(r"CA\d+", d[2]["label"]) is not None' true
HIGH=$(json_get "$T/json" 'd[2]["label"]')
jcheck "ca list: subject in RFC 4514" 'd[0]["subject"]' "$EX_DN"
jcheck "ca list: subject with an escaped comma" 'd[3]["subject"]' "$PA_DN"
jcheck "ca list: sha256 of the DER" 'd[0]["sha256"]' "$(sha256 "$C/example.der")"
jcheck "ca list: not_after ISO UTC" '__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d[0]["not_after"]) is not None' true
EX_UNTIL=$(json_get "$T/json" 'd[0]["not_after"]')
expect 0 "ca list (text)" ca list
check "ca list: example's two lines" \
	"$(printf '%-16s %-9s %s\n%16s sha256 %s, valid until %s' example trust "$EX_DN" "" \
		"$(sha256 "$C/example.der")" "$EX_UNTIL")" "$(head -2 "$T/out")"
check_true "ca list: other is notrust" grep -qE '^other +notrust +CN=Other CA,O=Other,C=US$' "$T/out"
check_true "ca list: the generated label is hightrust" \
	grep -qE "^$HIGH +hightrust +CN=High CA,O=High,C=US$" "$T/out"

write "ca alter other --hightrust" ca alter other --hightrust
check "ca alter: message" "CA other is now hightrust (generation $(generation))" "$(out)"
json "ca list after alter" ca list
jcheck "other is hightrust" '[c["status"] for c in d if c["label"] == "other"]' '["hightrust"]'
write "ca alter other back to --notrust" ca alter other --notrust
refused 64 "ca alter: give --trust, --notrust or --hightrust" "ca alter without a status" ca alter other
refused 67 "no CA labelled 'nosuch'" "ca alter of an unknown CA" ca alter nosuch --trust
write "ca add fourth" ca add "$C/fourth.crt" --label fourth
mk crl fourth.crl --ca "$C/fourth"
write "crl add for fourth" crl add "$C/fourth.crl"
write "ca del fourth" ca del fourth
check "ca del: message" "Deleted CA fourth (and its CRLs) (generation $(generation))" "$(out)"
json "ca list after del" ca list
jcheck "fourth is gone" '"fourth" in [c["label"] for c in d]' false
json "crl list after ca del" crl list
jcheck "its CRL went with it" 'd' '[]'
refused 67 "no CA labelled 'fourth'" "ca del of a deleted CA" ca del fourth

# ---- crl add, list ------------------------------------------------------------------------

mk crl old.pem --ca "$C/example" --revoke 999 --number 1 --last-update-days -2
mk crl new.der --ca "$C/example" --revoke 999 --revoke 998 --number 2 --der
mk crl stranger.pem --ca "$C/unknown"
write "crl add (DER)" crl add "$C/new.der"
check "crl add: message" "Added the CRL (it replaces the CA's previous one) (generation $(generation))" "$(out)"
expect 0 "crl list (text)" crl list
check_true "crl list: example, 2 revoked" \
	grep -qE '^CA example +2 revoked, issued [0-9T:-]+Z, next update [0-9T:-]+Z$' "$T/out"
refused 65 "this CRL is older than the one held for CA 'example'" "crl add of an older CRL (PEM)" \
	crl add "$C/old.pem"
unchanged "crl add of the same CRL" "Nothing to change: the same CRL is already held" \
	crl add "$C/new.der"
refused 65 "this CRL is not signed by any CA in the registry (add its CA first)" \
	"crl add of an unknown CA's CRL" crl add "$C/stranger.pem"
refused 65 "$C/junk.crt: not a CRL (PEM or DER)" "crl add of garbage" crl add "$C/junk.crt"
refused 66 "$T/nofile: No such file or directory" "crl add of a missing file" crl add "$T/nofile"
json "crl list" crl list
jcheck "crl list: one CRL, of example" '[c["ca"] for c in d]' '["example"]'
jcheck "crl list: 2 entries" 'd[0]["entries"]' 2
jcheck "crl list: dates ISO UTC" 'all(__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d[0][k]) for k in ("last_update", "next_update"))' true

# ---- certmap add ----------------------------------------------------------------------

write "certmap add: RACF dotted subject and issuer" certmap add --user alice \
	--sdn 'CN=alice.OU=Operations.O=Example Ltd.C=GB' --idn "$EX_DOT" --label alice1
check "certmap add: message" "Added a TRUST certificate map for alice (generation $(generation))" "$(out)"
# every dotted filter has single-dot separators: no warning at add time
# (common/certmap.c leaves that to the match)
stderr_is "dotted subject and issuer: no warning" ""
write "certmap add: RFC 4514 subject only" certmap add --user bob \
	--sdn 'OU=Operations,O=Example Ltd,C=GB' --label ops
stderr_is "RFC 4514 subject only: only the 'more than one trusted CA' warning" "$W_MANY"
write "certmap add: issuer only, generated label" certmap add --user webuser --idn "$EX_DN"
stderr_is "issuer only: no warning" ""
write "certmap add: a one-component subject" certmap add --user carol --sdn 'C=GB' --label short
stderr_is "short subject filter: the 2-or-fewer warning" "$W_SHORT"
write "certmap add --notrust" certmap add --user carol --sdn 'CN=x10.OU=Y.O=Z.C=GB' --notrust --label nt
check "certmap add --notrust: message" "Added a NOTRUST certificate map for carol (generation $(generation))" "$(out)"
stderr_is "dotted subject only: the 'more than one trusted' warning" "$W_MANY"
write "certmap add --multiid --criteria" certmap add --multiid \
	--criteria 'SERVICE=&SERVICE.HOST=&HOST' --idn "$PA_DN" --label partners
check "MULTIID: message" "Added a TRUST certificate map for MULTIID (generation $(generation))" "$(out)"
write "certmap add --from-cert with a subject starting point" certmap add --user dave \
	--from-cert "$C/dave.crt" --sdn OU=Dev --label devs
write "certmap add --from-cert without starting points" certmap add --user dave \
	--from-cert "$C/dave.der" --label davefull
refused 65 "subject starting point 'OU=Nope' not found in the certificate (RACF IRRD141I)" \
	"--from-cert: a starting point not in the certificate" \
	certmap add --user dave --from-cert "$C/dave.crt" --sdn OU=Nope --label x
refused 65 "a subject filter cannot go with a partial issuer filter (RACF IRRD146I): it would never be searched" \
	"--from-cert: subject with a partial issuer" \
	certmap add --user dave --from-cert "$C/dave.crt" --sdn CN=dave --idn 'O=Example Ltd' --label x

# ---- list, show -------------------------------------------------------------------------

expect 0 "certmap show alice1" certmap show alice1
check "show: RACF LISTMAP layout, both forms" "Mapping information for user alice:
 Label: alice1
 Status: TRUST
 Issuer's Name Filter:
      >$EX_DOT<
      (RFC 4514: $EX_DN)
 Subject's Name Filter:
      >CN=alice.OU=Operations.O=Example Ltd.C=GB<
      (RFC 4514: CN=alice,OU=Operations,O=Example Ltd,C=GB)" "$(out)"
expect 0 "certmap show ops (given as RFC 4514)" certmap show ops
check "show: an RFC 4514 filter shown dotted, an absent issuer as ><" "Mapping information for user bob:
 Label: ops
 Status: TRUST
 Issuer's Name Filter:
      ><
 Subject's Name Filter:
      >OU=Operations.O=Example Ltd.C=GB<
      (RFC 4514: OU=Operations,O=Example Ltd,C=GB)" "$(out)"
expect 0 "certmap show partners" certmap show partners
check "show: MULTIID with its criteria" "Mapping information for MULTIID:
 Label: partners
 Status: TRUST
 Issuer's Name Filter:
      >OU=Partner Class 1 Subscriber.O=Partner, Inc..L=Internet<
      (RFC 4514: $PA_DN)
 Subject's Name Filter:
      ><
 Criteria: SERVICE=&SERVICE.HOST=&HOST" "$(out)"
expect 0 "certmap show nt" certmap show nt
check_true "show: NOTRUST status" grep -qx ' Status: NOTRUST' "$T/out"
refused 67 "no certificate map with that label" "certmap show of an unknown label" certmap show nosuch

json "certmap list" certmap list
jcheck "list: every map, in order" '[(m["user"], m["label"]) for m in d]' \
	'[["alice", "alice1"], ["bob", "ops"], ["webuser", "LABEL00000001"], ["carol", "short"], ["carol", "nt"], ["MULTIID", "partners"], ["dave", "devs"], ["dave", "davefull"]]'
jcheck "list: alice1 as given" '[m for m in d if m["label"] == "alice1"][0]' \
	"{\"idn\": \"$EX_DOT\", \"label\": \"alice1\", \"sdn\": \"CN=alice.OU=Operations.O=Example Ltd.C=GB\", \"status\": \"trust\", \"type\": \"filter\", \"user\": \"alice\"}"
jcheck "list: no issuer filter is null" '[m["idn"] for m in d if m["label"] == "ops"]' '[null]'
jcheck "list: no subject filter is null" '[m["sdn"] for m in d if m["user"] == "webuser"]' '[null]'
jcheck "list: NOTRUST" '[m["status"] for m in d if m["label"] == "nt"]' '["notrust"]'
jcheck "list: MULTIID criteria" '[m["criteria"] for m in d if m["user"] == "MULTIID"]' '["SERVICE=&SERVICE.HOST=&HOST"]'
jcheck "list: --from-cert from the starting point to the end" \
	'[m["sdn"] for m in d if m["label"] == "devs"]' '["rfc4514:OU=Dev,O=Example Ltd,C=GB"]'
jcheck "list: --from-cert without starting points: the full names" \
	'[(m["sdn"], m["idn"]) for m in d if m["label"] == "davefull"]' \
	"[[\"rfc4514:CN=dave,OU=Dev,O=Example Ltd,C=GB\", \"rfc4514:$EX_DN\"]]"
json "certmap list --user carol" certmap list --user carol
jcheck "list --user: only carol's" '[m["label"] for m in d]' '["short", "nt"]'
expect 0 "certmap list --user alice (text)" certmap list --user alice
check "list --user alice: one map" 1 "$(grep -c '^Mapping information' "$T/out")"

# ---- alter, del ---------------------------------------------------------------------------

write "certmap alter --trust" certmap alter nt --trust
check "alter: message" "Changed certificate map nt (generation $(generation))" "$(out)"
json "show nt" certmap show nt
jcheck "nt is trust now" 'd[0]["status"]' trust
write "certmap alter --notrust" certmap alter nt --notrust
unchanged "alter to the status it has" "Nothing to change." certmap alter nt --notrust
write "certmap alter --new-label (with --user)" certmap alter LABEL00000001 --user webuser --new-label web
check "alter --new-label: message" "Changed certificate map web (generation $(generation))" "$(out)"
refused 67 "no certificate map or registration labelled 'LABEL00000001'" \
	"the old label is gone" certmap alter LABEL00000001 --trust
write "a second 'ops' label, of another user" certmap alter web --new-label ops
refused 65 "label 'ops' is used by bob, webuser: name the owner with --user" \
	"alter of a label two users have" certmap alter ops --notrust
refused 65 "label 'ops' is used by bob, webuser: name the owner with --user" \
	"del of a label two users have" certmap del ops
expect 0 "show of a label two users have" certmap show ops
check "show: both, and a note" "accordctl: note: 2 maps carry this label; --user picks one" "$(err)"
check "show: both maps listed" 2 "$(grep -c '^Mapping information' "$T/out")"
write "alter ops --user webuser --new-label web" certmap alter ops --user webuser --new-label web
refused 64 "certmap alter: nothing to change (--new-label, --trust, --notrust); filters cannot be changed: delete and add again" \
	"alter without a change" certmap alter nt
refused 64 "certmap alter: --trust or --notrust, not both" "alter --trust --notrust" \
	certmap alter nt --trust --notrust
refused 65 "a label has 1 to 32 characters; 'a-label-of-thirty-three-characters' has 34" \
	"alter to a label too long" certmap alter nt --new-label a-label-of-thirty-three-characters
refused 64 "certmap alter: unknown option '--sdn'" "alter --sdn (filters cannot change)" \
	certmap alter nt --sdn CN=x
write "add a map to delete" certmap add --user dave --sdn 'CN=tmp,OU=Dev,O=Example Ltd,C=GB' \
	--idn "$EX_DN" --label tmp
write "certmap del" certmap del tmp
check "del: message" "Deleted certificate map tmp (generation $(generation))" "$(out)"
refused 67 "no certificate map with that label" "show of the deleted map" certmap show tmp
refused 67 "no certificate map or registration labelled 'tmp'" "del again" certmap del tmp

# ---- certmap test ---------------------------------------------------------------------------

ALICE_SHA=$(sha256 "$C/alice.der")
expect 0 "certmap test: a mapped certificate" certmap test "$C/alice.crt" --host h1
check "certmap test: the whole report" "Certificate
  subject  CN=alice,OU=Operations,O=Example Ltd,C=GB
  issuer   $EX_DN
  serial   64
  sha256   $ALICE_SHA
Chain: valid - verified to the anchor; depth 1; $EX_DN
Mapping (service sshd, host h1, match ldap): probes in RACF's order
   1. step 0 sha256                   miss $ALICE_SHA
   2. step 0 issuer+serial            miss $EX_KEY|64
   3. step 1 subject+issuer           HIT  CN=alice,OU=operations,O=example ltd,C=gb|$EX_KEY  -> label alice1
Winner: label alice1 of alice (filter, step 1), status TRUST
Result: maps to user alice" "$(out)"
json "certmap test --json" certmap test "$C/alice.der"
jcheck "json: subject" 'd["subject"]' "CN=alice,OU=Operations,O=Example Ltd,C=GB"
jcheck "json: issuer" 'd["issuer"]' "$EX_DN"
jcheck "json: serial (hex)" 'd["serial"]' 64
jcheck "json: sha256" 'd["sha256"]' "$ALICE_SHA"
jcheck "json: chain ok" 'd["chain"]' ok
jcheck "json: probes" '[(p["step"], p["what"], p["hit"]) for p in d["probes"]]' \
	'[[0, "sha256", false], [0, "issuer+serial", false], [1, "subject+issuer", true]]'
jcheck "json: the hit names its label" 'd["probes"][2]["label"]' alice1
jcheck "json: result" 'd["result"]' mapped
jcheck "json: tier" 'd["tier"]' filter
jcheck "json: label" 'd["label"]' alice1
jcheck "json: user" 'd["user"]' alice
jcheck "json: logon" 'd["logon"]' true
jcheck "json: no single-dot rule needed" 'd["dot_compat"]' false
check_true "text: no single-dot note" bash -c "! grep -q '^Note' '$T/out'"

# every probe of RACF's order, nothing matching (a CA no map names)
JSON_RC=1
json "certmap test: nothing maps" certmap test "$C/zed.crt"
jcheck "no match: the probes in RACF's order" \
	'[(p["step"], p["what"], p["key"], p["hit"]) for p in d["probes"][2:]]' \
	'[[1, "subject+issuer", "CN=zed,O=nobody,C=fr|CN=high ca,O=high,C=us", false], [2, "partial subject+issuer", "O=nobody,C=fr|CN=high ca,O=high,C=us", false], [2, "partial subject+issuer", "C=fr|CN=high ca,O=high,C=us", false], [3, "subject", "CN=zed,O=nobody,C=fr|", false], [4, "partial subject", "O=nobody,C=fr|", false], [4, "partial subject", "C=fr|", false], [5, "issuer", "|CN=high ca,O=high,C=us", false], [6, "partial issuer", "|O=high,C=us", false], [6, "partial issuer", "|C=us", false]]'
jcheck "no match: 11 probes" 'len(d["probes"])' 11
jcheck "no match: the first two are the registered tier" '[p["what"] for p in d["probes"][:2]]' '["sha256", "issuer+serial"]'
jcheck "no match: result" 'd["result"]' no_match
jcheck "no match: tier none" 'd["tier"]' none
jcheck "no match: no user" 'd["user"]' ""
jcheck "no match: logon false" 'd["logon"]' false
JSON_RC=0
expect 1 "certmap test (text): nothing maps" certmap test "$C/zed.crt"
check "no match: result line" "Result: no map matches (11 probes)" "$(tail -1 "$T/out")"
check_true "no match: no winner line" bash -c "! grep -q '^Winner' '$T/out'"

expect 0 "certmap test: the same subject from example maps by issuer (step 5)" certmap test "$C/zed2.crt"
check "step 5: the probes' hits" "$(printf '%s\n' miss miss miss miss miss miss miss miss HIT)" \
	"$(sed -n 's/^ *[0-9]*\. step [0-9] .\{24\} \(HIT\|miss\) .*/\1/p' "$T/out")"
check "step 5: winner" "Winner: label web of webuser (filter, step 5), status TRUST" "$(grep '^Winner' "$T/out")"
check "step 5: result" "Result: maps to user webuser" "$(tail -1 "$T/out")"

expect 1 "certmap test: NOTRUST denies" certmap test "$C/x10.crt"
check "NOTRUST: winner at step 3" "Winner: label nt of carol (filter, step 3), status NOTRUST" \
	"$(grep '^Winner' "$T/out")"
check "NOTRUST: no fall-through to carol's C=GB map" \
	"Result: denied (the most specific match is NOTRUST; RACF does not fall back to a less specific map)" \
	"$(tail -1 "$T/out")"
check "NOTRUST: the probing stopped at the hit" "7. step 3 subject HIT" \
	"$(grep HIT "$T/out" | awk '{print $1, $2, $3, $4, $5}')"
check "NOTRUST: no probe after the hit" 7 "$(grep -c '^ *[0-9]*\. step' "$T/out")"
JSON_RC=1
json "certmap test --json: NOTRUST" certmap test "$C/x10.crt"
jcheck "NOTRUST json: result" 'd["result"]' notrust
jcheck "NOTRUST json: label and user" '[d["label"], d["owner"], d["logon"]]' '["nt", "carol", false]'

expect 1 "certmap test: an expired certificate" certmap test "$C/expired.crt"
check "expired: chain line" "Chain: expired - certificate has expired; depth 0; CN=alice,OU=Operations,O=Example Ltd,C=GB" \
	"$(grep '^Chain' "$T/out")"
check "expired: maps, but the logon would be refused" \
	"Result: maps to user alice - but the chain is refused, so a logon would be too" "$(tail -1 "$T/out")"
json "certmap test --json: a certificate of an unknown CA" certmap test "$C/stranger.crt"
jcheck "unknown CA: chain" 'd["chain"]' unknown_ca
jcheck "unknown CA: detail" 'd["chain_detail"]' "unable to get local issuer certificate; depth 0; CN=alice,OU=Operations,O=Example Ltd,C=GB"
jcheck "unknown CA: no subject+issuer probe hits (issuer is not example)" 'd["probes"][2]["key"]' \
	"CN=alice,OU=operations,O=example ltd,C=gb|CN=unknown ca"
jcheck "unknown CA: bob's partial subject filter maps it" '[d["result"], d["user"], d["logon"]]' '["mapped", "bob", false]'
JSON_RC=0

# a registered certificate wins over every filter
write "certmap register" certmap register "$C/alice.crt" --user carol --label alreg
check "register: message" "Registered the certificate to carol (TRUST): it maps before any filter (generation $(generation))" "$(out)"
expect 0 "certmap test: the registration wins" certmap test "$C/alice.crt" --host h1
check "registered: one probe, a hit" "   1. step 0 sha256                   HIT  $ALICE_SHA  -> label alreg" \
	"$(grep '^ *[0-9]*\. step' "$T/out")"
check "registered: winner" "Winner: label alreg of carol (registered certificate), status TRUST" "$(grep '^Winner' "$T/out")"
check "registered: result" "Result: maps to user carol" "$(tail -1 "$T/out")"
json "certmap test --json: registered" certmap test "$C/alice.crt"
jcheck "registered json: tier" '[d["tier"], d["label"], d["user"]]' '["registered", "alreg", "carol"]'
json "certmap list --user carol with the registration" certmap list --user carol
jcheck "registration listed as a certificate" '[(m["label"], m["type"], m["subject"]) for m in d if m["type"] == "certificate"]' \
	'[["alreg", "certificate", "CN=alice,OU=Operations,O=Example Ltd,C=GB"]]'
jcheck "registration's issuer in the list" '[m["issuer"] for m in d if m["type"] == "certificate"]' "[\"$EX_DN\"]"
expect 0 "certmap show alreg" certmap show alreg
check "show: a registration's block" " Registered certificate (above every filter):
      Subject: CN=alice,OU=Operations,O=Example Ltd,C=GB" "$(sed -n '4,5p' "$T/out")"
check "show: the registration's issuer as the certificate has it" "      Issuer:  $EX_DN" "$(sed -n '6p' "$T/out")"
refused 65 "this certificate is already registered to carol (label 'alreg')" \
	"register of a registered certificate" certmap register "$C/alice.der" --user bob
write "certmap register --notrust" certmap register "$C/zed2.crt" --user dave --label zedno --notrust
check "register --notrust: message" "Registered the certificate to dave (NOTRUST: its logons are refused): it maps before any filter (generation $(generation))" "$(out)"
expect 1 "certmap test: a NOTRUST registration denies" certmap test "$C/zed2.crt"
check "NOTRUST registration: winner" "Winner: label zedno of dave (registered certificate), status NOTRUST" "$(grep '^Winner' "$T/out")"

# RACF's single-dot rule: 'Acme Inc.C=GB' is O "Acme Inc", and also matches
# the certificate's "Acme Inc." (as RACF would); certmap test says so
write "certmap add: a dotted filter whose value could end in '.'" certmap add --user dave \
	--sdn 'CN=acme.O=Acme Inc.C=GB' --idn "$EX_DOT" --label acme
stderr_is "no warning at add time" ""
expect 0 "certmap test: a match that needs the single-dot rule" certmap test "$C/acme.crt"
check "single dot: winner" "Winner: label acme of dave (filter, step 1), status TRUST" "$(grep '^Winner' "$T/out")"
check "single dot: the note" "Note: a value of the certificate ends in '.' where the filter has RACF's single '.' separator;
      it matches as RACF would; write the filter with commas (RFC 4514) to be exact" "$(grep -A1 '^Note' "$T/out")"
json "certmap test --json: single dot" certmap test "$C/acme.crt"
jcheck "single dot: dot_compat" '[d["dot_compat"], d["user"]]' '[true, "dave"]'
write "certmap del acme" certmap del acme
write "certmap add: the same filter in RFC 4514" certmap add --user dave \
	--sdn 'CN=acme,O=Acme Inc,C=GB' --idn "$EX_DN" --label acme
json "certmap test --json: RFC 4514 is exact" certmap test "$C/acme.crt"
jcheck "RFC 4514: 'Acme Inc' does not match 'Acme Inc.'" '[d["probes"][2]["what"], d["probes"][2]["hit"], d["dot_compat"]]' \
	'["subject+issuer", false, false]'
jcheck "RFC 4514: carol's C=GB filter (step 4) maps it instead" '[d["label"], d["user"]]' '["short", "carol"]'
write "certmap del acme (RFC 4514)" certmap del acme

# MULTIID: --service and --host choose the criteria entry
write "criteria add SERVICE=sshd.HOST=*" certmap criteria add 'SERVICE=sshd.HOST=*' --user alice
check "criteria add: message" "Criteria entry SERVICE=sshd.HOST=* maps to alice (generation $(generation))" "$(out)"
write "criteria add SERVICE=sshd.HOST=web1" certmap criteria add 'SERVICE=sshd.HOST=web1' --user bob
unchanged "criteria add of the same entry" "Nothing to change: the entry exists" \
	certmap criteria add 'SERVICE=sshd.HOST=web1' --user bob
refused 65 "criteria entry 'SERVICE=sshd.HOST=web1' already maps to bob (delete it first)" \
	"criteria add of an entry to another user" certmap criteria add 'SERVICE=sshd.HOST=web1' --user carol
refused 67 "user 'nobody' does not exist" "criteria add for an unknown user" \
	certmap criteria add 'SERVICE=ftp' --user nobody
refused 64 "certmap criteria add: --user USER is required" "criteria add without --user" \
	certmap criteria add 'SERVICE=ftp'
write "criteria add SERVICE=httpd" certmap criteria add 'SERVICE=httpd' --user dave
write "criteria del" certmap criteria del 'SERVICE=httpd'
check "criteria del: message" "Deleted criteria entry SERVICE=httpd (generation $(generation))" "$(out)"
refused 67 "no criteria entry 'SERVICE=httpd'" "criteria del of an unknown entry" certmap criteria del 'SERVICE=httpd'
expect 0 "criteria list (text)" certmap criteria list
check "criteria list" "$(printf '%-40s -> %s\n%-40s -> %s' 'SERVICE=sshd.HOST=*' alice 'SERVICE=sshd.HOST=web1' bob)" "$(out)"
json "criteria list" certmap criteria list
jcheck "criteria list json" 'd' '[{"name": "SERVICE=sshd.HOST=*", "user": "alice"}, {"name": "SERVICE=sshd.HOST=web1", "user": "bob"}]'

expect 0 "MULTIID: sshd on web1" certmap test "$C/bot.crt" --service sshd --host web1
check "web1: the issuer filter wins at step 5" "Winner: label partners of MULTIID (filter, step 5), status TRUST" "$(grep '^Winner' "$T/out")"
check "web1: the exact entry beats HOST=*" "Criteria: SERVICE=sshd.HOST=web1 -> entry SERVICE=sshd.HOST=web1" "$(grep '^Criteria' "$T/out")"
check "web1: bob" "Result: maps to user bob" "$(tail -1 "$T/out")"
expect 0 "MULTIID: sshd on db2" certmap test "$C/bot.crt" --service sshd --host db2
check "db2: HOST=* applies" "Criteria: SERVICE=sshd.HOST=db2 -> entry SERVICE=sshd.HOST=*" "$(grep '^Criteria' "$T/out")"
check "db2: alice" "Result: maps to user alice" "$(tail -1 "$T/out")"
expect 1 "MULTIID: ftp matches no entry" certmap test "$C/bot.crt" --service ftp --host db2
check "ftp: no entry" "Criteria: SERVICE=ftp.HOST=db2 -> entry (none)" "$(grep '^Criteria' "$T/out")"
check "ftp: denied" "Result: denied (MULTIID: no criteria entry matches 'SERVICE=ftp.HOST=db2')" "$(tail -1 "$T/out")"
json "certmap test --json: MULTIID" certmap test "$C/bot.crt" --service sshd --host web1
jcheck "MULTIID json" '[d["owner"], d["criteria"], d["criteria_entry"], d["user"], d["logon"]]' \
	'["MULTIID", "SERVICE=sshd.HOST=web1", "SERVICE=sshd.HOST=web1", "bob", true]'
JSON_RC=1
json "certmap test --json: MULTIID, no entry" certmap test "$C/bot.crt" --service ftp --host x
jcheck "no entry json" '[d["result"], d["user"], d["logon"]]' '["no_criteria", "", false]'
JSON_RC=0

# the chain: a CA made NOTRUST, a revoked serial
write "ca alter example --notrust" ca alter example --notrust
expect 1 "certmap test under a NOTRUST CA" certmap test "$C/dave.crt"
check "NOTRUST CA: chain line" "Chain: ca_notrust - the chain runs through a NOTRUST CA; depth 1; $EX_DN" "$(grep '^Chain' "$T/out")"
write "ca alter example --trust" ca alter example --trust
expect 0 "certmap test under a TRUST CA again" certmap test "$C/dave.crt"
mk crl revoke.pem --ca "$C/example" --revoke 200 --number 4
write "crl add (PEM) revoking dave's serial" crl add "$C/revoke.pem"
json "crl list after the newer CRL" crl list
jcheck "the newer CRL replaced the older" '[(c["ca"], c["entries"]) for c in d]' '[["example", 1]]'
expect 1 "certmap test of a revoked certificate" certmap test "$C/dave.crt"
check "revoked: chain line" "Chain: revoked - certificate revoked; depth 0; CN=dave,OU=Dev,O=Example Ltd,C=GB" "$(grep '^Chain' "$T/out")"

refused 65 "$C/junk.crt: no PEM CERTIFICATE block that parses: no start line" \
	"certmap test of garbage" certmap test "$C/junk.crt"
refused 66 "$T/nofile: No such file or directory" "certmap test of a missing file" certmap test "$T/nofile"
refused 64 "--service needs a value" "certmap test --service without a value" certmap test "$C/alice.crt" --service

# ---- refused commands change nothing ----------------------------------------------------

refused 65 "the same filters are already mapped by label 'alice1' of alice" \
	"the same filters in RFC 4514, other case and spacing, another user" certmap add --user bob \
	--sdn 'cn=ALICE, ou=operations, o=example ltd, c=gb' --idn 'CN=example issuing CA 1, O=EXAMPLE LTD, C=GB'
refused 65 "the same filters are already mapped by label 'ops' of bob" \
	"the same subject filter in dotted form" certmap add --user carol --sdn 'OU=Operations.O=Example Ltd.C=GB'
refused 65 "alice already has a map or registration labelled 'alice1'" "a duplicate label" \
	certmap add --user alice --sdn 'CN=other,O=Z,C=GB' --label alice1
refused 65 "carol already has a map or registration labelled 'alreg'" "a label a registration holds" \
	certmap add --user carol --sdn 'CN=other,O=Z,C=GB' --label alreg
refused 67 "user 'nobody' does not exist" "an unknown user" certmap add --user nobody --sdn 'CN=n,O=Z,C=GB'
refused 65 "subject filter: unknown keyword 'XX' at byte 1 (known: CN, OU, O, L, ST, C, STREET, DC, UID, T, E, MAIL, SERIALNUMBER, DNQ, SN, G, I, PC, NAME, ..., or OID.n.n)" \
	"a bad filter keyword" certmap add --user alice --sdn 'XX=a.O=Z.C=GB'
refused 65 "with a subject filter, the issuer filter must be the full name of a CA in the registry (RACF never searches a subject with a partial issuer); add the CA first with 'accordctl ca add'" \
	"subject with a partial issuer" certmap add --user alice --sdn 'CN=a,O=Z,C=GB' --idn 'O=Example Ltd,C=GB'
refused 65 "a label has 1 to 32 characters; 'a-label-of-thirty-three-characters' has 34" \
	"a label too long" certmap add --user alice --sdn 'CN=a,O=Z,C=GB' --label a-label-of-thirty-three-characters
refused 64 "certmap add: give --sdn, --idn or both (or --from-cert)" "no filter" certmap add --user alice
refused 64 "certmap add: --multiid goes with --criteria" "MULTIID without criteria" \
	certmap add --multiid --idn "$EX_DN"
refused 64 "certmap add: give --user USER or --multiid --criteria T" "--user with --multiid" \
	certmap add --user alice --multiid --criteria SERVICE=x --idn "$EX_DN"
refused 66 "$T/nofile: No such file or directory" "--from-cert of a missing file" \
	certmap add --user alice --from-cert "$T/nofile"
refused 65 "$C/junk.crt: no PEM CERTIFICATE block that parses: no start line" \
	"--from-cert of a garbage file" certmap add --user alice --from-cert "$C/junk.crt"
refused 66 "$T/nofile: No such file or directory" "register of a missing file" \
	certmap register "$T/nofile" --user alice
refused 65 "$C/junk.crt: no PEM CERTIFICATE block that parses: no start line" \
	"register of a garbage file" certmap register "$C/junk.crt" --user alice
refused 67 "user 'nobody' does not exist" "register to an unknown user" \
	certmap register "$C/dave.crt" --user nobody
refused 64 "certmap register: --user USER is required" "register without --user" certmap register "$C/dave.crt"
refused 66 "$T/nofile: No such file or directory" "ca add of a missing file" ca add "$T/nofile"
refused 65 "$C/junk.crt: no PEM CERTIFICATE block that parses: no start line" "ca add of garbage" \
	ca add "$C/junk.crt"
refused 66 "$T/nofile: No such file or directory" "import-racf of a missing file" \
	certmap import-racf "$T/nofile"
refused 64 "certmap add: unknown option '--bogus'" "certmap add --bogus" \
	certmap add --user alice --sdn 'CN=b,O=Z,C=GB' --bogus
refused 64 "ca add: unknown option '--label2'" "ca add --label2" ca add "$C/fourth.crt" --label2 x
refused 64 "certmap register: unknown option '--idn'" "register --idn" \
	certmap register "$C/dave.crt" --user dave --idn "$EX_DN"
refused 64 "certmap: expected add, list, show, alter, del, register, test, import-racf or criteria, not frob" \
	"certmap frob" certmap frob
refused 64 "crl: expected add or list, not del" "crl del" crl del example
refused 64 "certmap add: '--label' given twice" "an option twice" \
	certmap add --user alice --sdn 'CN=b,O=Z,C=GB' --label a --label b
# --json: the error as a document too, the registry as it was
before=$(state)
expect 67 "--json certmap add for an unknown user" --json certmap add --user nobody --sdn 'CN=n,O=Z,C=GB'
cp "$T/out" "$T/json"
jcheck "--json error document" 'd' '{"error": "user '"'"'nobody'"'"' does not exist", "exit": 67}'
check "--json error: registry unchanged" "$before" "$(state)"

# ---- the journal ------------------------------------------------------------------------

expect 0 "accordctl log" log
for l in 'add +ca example' 'add +ca other' "add +ca $HIGH" 'change +ca other' 'delete +ca fourth' \
	'add +crl example' 'delete +crl fourth' 'add +certmap alice/alice1' 'add +certmap MULTIID/partners' \
	'change +certmap carol/nt' 'change +certmap webuser/web' 'delete +certmap dave/tmp' \
	'add +certreg carol/alreg' 'add +certreg dave/zedno' 'add +certcrit SERVICE=sshd.HOST=\*' \
	'delete +certcrit SERVICE=httpd'; do
	check_true "log: '$l'" grep -qE "^    $l\$" "$T/out"
done
check_true "log: the status change of a CA" grep -qx '      status: trust -> notrust' "$T/out"
check_true "log: a label change" grep -qx '      label: LABEL00000001 -> web' "$T/out"
check_true "log: the command line of a map add" \
	grep -qE '^generation [0-9]+  .*  certmap add --user carol --label nt --notrust$' "$T/out"

# ---- user del takes the user's maps, registrations and criteria entries ------------------------

write "user del carol" user del carol
expect 0 "log of the user del" log --since "$(generation)"
for l in 'delete +certmap carol/short' 'delete +certmap carol/nt' 'delete +certreg carol/alreg'; do
	check_true "user del: '$l'" grep -qE "^    $l\$" "$T/out"
done
expect 0 "certmap list --user carol" certmap list --user carol
check "carol has no maps" "No certificate maps for this user." "$(out)"
json "certmap list" certmap list
jcheck "no map of carol's is left" '[m["label"] for m in d if m["user"] == "carol"]' '[]'
jcheck "the others are still there" 'len(d)' 7
expect 0 "certmap test alice.crt: the filter maps again" certmap test "$C/alice.crt"
check "the registration is gone" "Result: maps to user alice" "$(tail -1 "$T/out")"
write "user del bob" user del bob
json "criteria list after user del bob" certmap criteria list
jcheck "bob's criteria entry is gone" '[c["name"] for c in d]' '["SERVICE=sshd.HOST=*"]'
expect 0 "MULTIID on web1 after bob is gone" certmap test "$C/bot.crt" --service sshd --host web1
check "web1 falls back to HOST=*" "Result: maps to user alice" "$(tail -1 "$T/out")"

# ---- certmap import-racf (a registry of its own) --------------------------------------------

REG=$T/reg2
SNAP=$T/local/snapshot2
printf 'registry = %s\nsnapshot = %s\n' "$REG" "$SNAP" >"$T/accord2.conf"
export ACCORD_CONF=$T/accord2.conf
acc init >/dev/null || bail "init of the second registry"

# before the users exist: the MULTIID map is all that can be taken
expect 1 "import-racf without the users" certmap import-racf "$EXAMPLE"
check "import-racf: the users are missing" "line 8: not taken: user 'webuser' does not exist
line 15: not taken: user 'adcdd' does not exist
line 19: not taken: user 'opsjane' does not exist
line 24: not taken: user 'webuser' does not exist
line 32: not taken: user 'partssh' does not exist
line 33: not taken: user 'partweb' does not exist" "$(grep 'not taken' "$T/out")"
check "import-racf: counts" "Imported 1 of 9 commands (2 skipped, 6 refused)" \
	"$(grep '^Imported' "$T/out")"
rm -rf "$REG" "$SNAP"
acc init >/dev/null || bail "init of the second registry, again"
for u in webuser adcdd opsjane partssh partweb; do acc user add "$u" >/dev/null || bail "user add $u"; done

# the users exist, the CA does not: the map with subject and issuer is refused
g0=$(generation)
expect 1 "import-racf without the CA" certmap import-racf "$EXAMPLE"
check "import-racf: the report" "line 15: not taken: with a subject filter, the issuer filter must be the full name of a CA in the registry (RACF never searches a subject with a partial issuer); add the CA first with 'accordctl ca add'
line 37: skipped: SETROPTS: accord publishes every change at once; nothing to do
    SETROPTS RACLIST(DIGTNMAP, DIGTCRIT) REFRESH
line 40: skipped: MAP(data set) needs the certificate: use certmap add --from-cert
    RACDCERT ID(BATCH01) MAP('SECADM.CERTS.BATCH01') SDNFILTER('OU=Batch')
Imported 6 of 9 commands (2 skipped, 1 refused)
The imported maps are published (generation $((g0 + 1)))" "$(out)"
check "import-racf: one generation for all" "$((g0 + 1))" "$(generation)"
json "certmap list after the import" certmap list
jcheck "imported maps" '[(m["user"], m["label"], m["status"]) for m in d]' \
	'[["webuser", "All Example employees", "trust"], ["opsjane", "Jane O'"'"'Neill", "trust"], ["webuser", "Contractor, left 2024", "notrust"], ["MULTIID", "Partner by application", "trust"]]'
jcheck "'' undone, continuation joined, filters marked RACF" \
	'[m["sdn"] for m in d if m["user"] in ("opsjane", "webuser") and m["sdn"]]' \
	'["racf:CN=Jane O'"'"'Neill.OU=Operations.O=Example Ltd.C=GB", "racf:CN=old contractor.OU=Contractors.O=Example Ltd.C=GB"]'
jcheck "the MULTIID criteria" '[m["criteria"] for m in d if m["user"] == "MULTIID"]' '["APPLID=&APPLID"]'
json "criteria list after the import" certmap criteria list
jcheck "DIGTCRIT entries, users in lower case" 'd' \
	'[{"name": "APPLID=SSHD", "user": "partssh"}, {"name": "APPLID=HTTPD", "user": "partweb"}]'
expect 0 "log of the import" log --since "$(generation)"
check "import: the journal lists every object" "    add     certmap webuser/All Example employees
    add     certmap opsjane/Jane O'Neill
    add     certmap webuser/Contractor, left 2024
    add     certmap MULTIID/Partner by application
    add     certcrit APPLID=SSHD
    add     certcrit APPLID=HTTPD" "$(tail -n +2 "$T/out")"

# with the CA added, a second import takes line 15 and refuses the rest
write "ca add of the example's issuing CA" ca add "$C/example.crt" --label example
write "ca add of the example's partner CA" ca add "$C/partner.crt" --label partner
g0=$(generation)
expect 1 "import-racf again" certmap import-racf "$EXAMPLE"
check "second import: the report" "line 8: not taken: webuser already has a map or registration labelled 'All Example employees'
line 19: not taken: opsjane already has a map or registration labelled 'Jane O'Neill'
line 24: not taken: webuser already has a map or registration labelled 'Contractor, left 2024'
line 28: not taken: MULTIID already has a map or registration labelled 'Partner by application'
line 32: not taken: the same entry is already in the registry
line 33: not taken: the same entry is already in the registry
line 37: skipped: SETROPTS: accord publishes every change at once; nothing to do
    SETROPTS RACLIST(DIGTNMAP, DIGTCRIT) REFRESH
line 40: skipped: MAP(data set) needs the certificate: use certmap add --from-cert
    RACDCERT ID(BATCH01) MAP('SECADM.CERTS.BATCH01') SDNFILTER('OU=Batch')
Imported 1 of 9 commands (2 skipped, 6 refused)
The imported maps are published (generation $((g0 + 1)))" "$(out)"
before=$(state)
expect 1 "import-racf a third time" certmap import-racf "$EXAMPLE"
check "third import: nothing taken" "Imported 0 of 9 commands (2 skipped, 7 refused); nothing changed" \
	"$(grep '^Imported' "$T/out")"
check "third import: registry unchanged" "$before" "$(state)"

# the imported maps at work
mk leaf adcdd --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Operations/CN=adcdd" --serial 600
mk leaf jane --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Operations/CN=Jane O'Neill" --serial 601
mk leaf old --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Contractors/CN=old contractor" --serial 602
mk leaf sam --ca "$C/example" --subject "/C=GB/O=Example Ltd/OU=Sales/CN=sam" --serial 603
# certmap_test CERT ARGS... -> "exit user" from --json
certmap_test() {
	run --json certmap test "$@"
	echo "$rc $(json_get "$T/out" 'd["result"] + ":" + d["user"] + ":" + d["label"]')"
}
check "example: adcdd by subject and issuer" "0 mapped:adcdd:adcdd" "$(certmap_test "$C/adcdd.crt")"
check "example: Jane O'Neill by subject" "0 mapped:opsjane:Jane O'Neill" "$(certmap_test "$C/jane.crt")"
check "example: the old contractor is denied" "1 notrust::Contractor, left 2024" "$(certmap_test "$C/old.crt")"
check "example: any other employee is webuser" "0 mapped:webuser:All Example employees" "$(certmap_test "$C/sam.crt")"
run --json certmap test "$C/bot.crt" --service sshd
check "example: the partner filter ('Partner, Inc.L=') needs the single-dot rule" true \
	"$(json_get "$T/out" 'd["dot_compat"]')"
check "example: partner over sshd (APPLID)" "0 mapped:partssh:Partner by application" \
	"$(certmap_test "$C/bot.crt" --service sshd)"
check "example: partner over httpd" "0 mapped:partweb:Partner by application" \
	"$(certmap_test "$C/bot.crt" --service httpd)"
check "example: partner over ftp" "1 no_criteria::Partner by application" \
	"$(certmap_test "$C/bot.crt" --service ftp)"

finish
