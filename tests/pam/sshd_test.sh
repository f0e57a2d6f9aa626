#!/bin/bash
# SPDX-License-Identifier: MIT
#
# pam_accord.so in a real OpenSSH sshd on 127.0.0.1.  sshd runs with
# pam_wrapper (its PAM service file comes from a scratch directory, not
# /etc/pam.d) and nss_wrapper (the users come from this build's
# libnss_accord.so.2 over a scratch snapshot, not /etc/passwd).  The
# registry is made with pamfix (libaccord).  Checks:
#
#   - an accord user logs in with a password by keyboard-interactive and
#     the session runs as its uid; a wrong password is refused
#   - a DISABLED profile with a valid SSH key is refused by the account
#     phase (the key alone worked while it was enabled)
#   - a user outside the group permitted to the sshd application is
#     refused (appl_denied), its password right
#   - the audit file holds each decision
#   - PassTickets (the auth line has methods=password,passticket): alice
#     logs in with a ticket made by `accordctl passticket generate` for
#     the application SSHD; the same ticket again is refused (replay), and
#     so is one generated 700 s ago (ticket_expired)
#
#   sshd_test.sh MODULE NSS_MODULE PAMFIX STACK [PRELOAD...]
#
# ACCORDCTL (environment): this build's accordctl, for the PassTicket
# key and tickets, and the certificate maps.
# MKCERT, ACCORD_SIGN (environment): the test-certificate tool and the
# challenge client, for certificate logons (methods=cert,
# cert_source=challenge): alice logs in with accord-sign answering every
# keyboard-interactive prompt as ssh's SSH_ASKPASS; a signature made with
# another key, a signature replayed from an earlier logon, and alice's
# certificate presented for carol are refused.
#
# STACK: the example /etc/pam.d/sshd (conf/pam.d/sshd), used as it is
# except that pam_accord.so is named by its build path with conf= of the
# test (and methods=password,passticket on the auth line): pam_accord in
# front of the system's own modules.
#
# PRELOAD: libraries that must come first in LD_PRELOAD (the ASan runtime
# of a gcc ASan build).  Needs root (sshd's privilege separation), sshd,
# ssh, sshpass and the wrappers; exits 77 (skipped) without them.
# Prints "ok - ..." / "not ok - ..." and "N passed, M failed".

# Under `meson test --setup valgrind` only this shell would be checked:
# leave valgrind at once (the module is valgrinded by pam-module).
case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;;
esac
set -u
export LC_ALL=C

if [ $# -lt 4 ]; then
	echo "usage: $0 MODULE NSS_MODULE PAMFIX STACK [PRELOAD...]" >&2
	exit 2
fi
MODULE=$1
NSS=$2
PAMFIX=$3
STACK=$4
shift 4
PRELOAD="$* libpam_wrapper.so libnss_wrapper.so"
PRELOAD=${PRELOAD# }

skip() {
	echo "# SKIP: $1"
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (sshd privilege separation)"
[ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd"
getent passwd sshd >/dev/null || skip "no sshd privilege-separation user"
for p in ssh ssh-keygen sshpass; do
	command -v "$p" >/dev/null || skip "no $p"
done
for l in libpam_wrapper.so libnss_wrapper.so; do
	[ -e "/usr/lib/x86_64-linux-gnu/$l" ] || /sbin/ldconfig -p 2>/dev/null | grep -q "$l" ||
		skip "no $l"
done

W=$(mktemp -d /tmp/accord-sshd-XXXXXX) || exit 1
chmod 0755 "$W"
SSHD_PID=
# pam_wrapper makes /tmp/pam.<one char> per process and sshd's children
# leave some behind; only 62 names exist (pitfall P4): remove ours.
pam_dirs_before=$(ls -d /tmp/pam.? 2>/dev/null || true)
cleanup() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	# the listener's own record, should it ever differ from $!
	if [ -s "$W/sshd.pid" ] && [ "$(cat "$W/sshd.pid")" != "$SSHD_PID" ]; then
		kill "$(cat "$W/sshd.pid")" 2>/dev/null
	fi
	for d in /tmp/pam.?; do
		[ -d "$d" ] || continue
		grep -qxF "$d" <<<"$pam_dirs_before" || rm -rf "$d"
	done
	if [ -n "${KEEP_LOG:-}" ]; then
		cp "$W/sshd.log" "$KEEP_LOG" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}
check() { # DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got:      $3"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
bail() {
	not_ok "$@"
	finish
}

# ---- the registry ----------------------------------------------------
A=$W/acc
mkdir -p "$A" "$W/pam.d" "$W/nss" "$W/keys" "$W/home"
fix() {
	"$PAMFIX" "$A" "$@" >"$W/fix.out" 2>"$W/fix.err" ||
		bail "pamfix $*" "$(cat "$W/fix.err")"
}
fix init
fix group sshusers
for u in alice dave carol; do
	mkdir -p "$W/home/$u"
done
fix user alice sshusers "$W/home/alice"
fix user dave sshusers "$W/home/dave"
fix user carol "" "$W/home/carol"
fix passwd alice 'Alice-pw-1'
fix passwd dave 'Dave-pw-1'
fix passwd carol 'Carol-pw-1'
# the sshd application: only the group sshusers
fix appl sshd none
fix permit sshd group sshusers
auid=$("$PAMFIX" "$A" uid alice)

# ---- sshd --------------------------------------------------------------
install -d -m 0755 -o root -g root /run/sshd   # privilege separation
ssh-keygen -q -t ed25519 -N '' -f "$W/host_ed25519" || bail "host key"
ssh-keygen -q -t ed25519 -N '' -f "$W/dave_key" || bail "dave's key"
install -m 0644 "$W/dave_key.pub" "$W/keys/dave"

# sshd's PAM service is its program name: "sshd"; the application is the
# service unless appl= says otherwise.  The example stack, with the
# module of this build (pam_wrapper would look for a bare name in the
# system's module directory) and the test's accord.conf.
sed -e "/^auth/s|pam_accord\.so|$MODULE conf=$A/accord.conf methods=password,passticket|" \
	-e "/^auth/!s|pam_accord\.so|$MODULE conf=$A/accord.conf|" "$STACK" >"$W/pam.d/sshd"
grep -q "^account.*$MODULE conf=" "$W/pam.d/sshd" || bail "the example stack names pam_accord.so"
grep -q "^auth.*$MODULE conf=.* methods=password,passticket" "$W/pam.d/sshd" ||
	bail "the auth line takes methods=password,passticket"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$W/pam.d/other"

# root and the sshd privilege-separation user from the real files, the
# accord users from the module
cp /etc/passwd "$W/nss/passwd"
cp /etc/group "$W/nss/group"

cat >"$W/sshd_config" <<CFG
ListenAddress 127.0.0.1
HostKey $W/host_ed25519
PidFile $W/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $W/keys/%u
PermitRootLogin no
StrictModes no
UseDNS no
LogLevel VERBOSE
CFG

# The environment of sshd (and of the programs that check what it sees).
WRAP_ENV=(LD_PRELOAD="$PRELOAD"
	PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/pam.d" PAM_WRAPPER_DISABLE_DEEPBIND=1
	NSS_WRAPPER_PASSWD="$W/nss/passwd" NSS_WRAPPER_GROUP="$W/nss/group"
	NSS_WRAPPER_MODULE_SO_PATH="$NSS" NSS_WRAPPER_MODULE_FN_PREFIX=accord
	NSS_WRAPPER_DISABLE_DEEPBIND=1
	ACCORD_SNAPSHOT="$A/snapshot"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
wrapped() {
	env "${WRAP_ENV[@]}" "$@"
}

check "the wrapped NSS sees alice" "alice" "$(wrapped getent passwd alice | cut -d: -f1)"
wrapped /usr/sbin/sshd -t -f "$W/sshd_config" >"$W/sshd-t.log" 2>&1 ||
	bail "sshd -t accepts the configuration" "$(cat "$W/sshd-t.log")"

# a free port: 22000 + pid % 1000, then the next ones
port=$((22000 + $$ % 1000))
for _ in 1 2 3 4 5 6 7 8 9 10; do
	rm -f "$W/sshd.pid"
	: >"$W/sshd.log"
	# -D: no daemon, -e: log to stderr; an absolute path for re-exec.
	# env execs sshd, so $! is sshd itself (not a subshell that would
	# leave it running); none of our pipes stays open in it.
	env "${WRAP_ENV[@]}" /usr/sbin/sshd -D -e -p "$port" -f "$W/sshd_config" \
		</dev/null >/dev/null 2>"$W/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 50); do
		if grep -q 'Server listening' "$W/sshd.log" ||
			! kill -0 "$SSHD_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	grep -q 'Server listening' "$W/sshd.log" && break
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
	port=$((port + 1))
done
[ -n "$SSHD_PID" ] || bail "sshd listens on 127.0.0.1" "$(tail -5 "$W/sshd.log")"
ok "sshd listens on 127.0.0.1:$port"

SSH=(ssh -F /dev/null -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o LogLevel=ERROR -o ConnectTimeout=10)
KBD=(-o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1
	-o PubkeyAuthentication=no)
KEY=(-o PreferredAuthentications=publickey -o IdentitiesOnly=yes -o BatchMode=yes
	-i "$W/dave_key")

# audit NAME PHASE REASON USER [KEY=VALUE...]: a record with these fields
# is in the audit file.
audit_has() {
	/usr/bin/python3 - "$A/audit.log" "$@" <<'EOF'
import json, sys
path, phase, reason, user = sys.argv[1:5]
want = dict(a.split("=", 1) for a in sys.argv[5:])
with open(path) as f:
    for line in f:
        r = json.loads(line)
        if (r["phase"], r["reason"], r["user"]) == (phase, reason, user) and \
           all(str(r.get(k)) == v for k, v in want.items()):
            sys.exit(0)
sys.exit(1)
EOF
}
check_audit() { # DESCRIPTION PHASE REASON USER [KEY=VALUE...]
	local d=$1
	shift
	if audit_has "$@"; then
		ok "$d"
	else
		not_ok "$d" "no audit record $*" "$(cat "$A/audit.log" 2>/dev/null | tail -5)"
	fi
}

# ---- the checks --------------------------------------------------------
out=$(sshpass -p 'Alice-pw-1' "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 'id -u' 2>"$W/c.err")
check "alice logs in with her password (keyboard-interactive)" 0 $?
check "the session runs as alice's uid" "$auid" "$out"
check_audit "audit: alice's auth, ok, from 127.0.0.1" auth ok alice rhost=127.0.0.1 method=password
check_audit "audit: alice's account, granted by group sshusers" \
	account ok alice granting=group:sshusers
check_audit "audit: alice's session" session_open ok alice

sshpass -p 'wrong-pw-1' "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 true 2>/dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
	ok "a wrong password is refused (exit $rc)"
else
	not_ok "a wrong password is refused"
fi
check_audit "audit: alice's bad password counted" auth bad_secret alice failures=1

# dave's key works while he is enabled ...
out=$("${SSH[@]}" "${KEY[@]}" dave@127.0.0.1 'echo in' 2>"$W/c.err")
check "dave logs in with his key while enabled" "in" "$out"
fix disable dave
# ... and not once he is disabled: no password was asked, the account
# phase refused him
"${SSH[@]}" "${KEY[@]}" dave@127.0.0.1 'echo in' >"$W/c.out" 2>"$W/c.err"
rc=$?
if [ "$rc" -ne 0 ] && [ ! -s "$W/c.out" ]; then
	ok "a disabled profile with a valid key is refused (exit $rc)"
else
	not_ok "a disabled profile with a valid key is refused" "exit $rc" "$(cat "$W/c.out")"
fi
check_audit "audit: dave refused by the account phase (disabled)" account disabled dave
if grep -Eq "Accepted publickey for dave" "$W/sshd.log" &&
	grep -q "Access denied for user dave by PAM account configuration" "$W/sshd.log"; then
	ok "sshd logged dave's key accepted, then the account phase's refusal"
else
	not_ok "sshd logged dave's key accepted, then the account phase's refusal" \
		"$(grep dave "$W/sshd.log" | tail -5)"
fi

# carol's password is right, but sshd is not her application
sshpass -p 'Carol-pw-1' "${SSH[@]}" "${KBD[@]}" carol@127.0.0.1 'echo in' >"$W/c.out" 2>"$W/c.err"
rc=$?
if [ "$rc" -ne 0 ] && [ ! -s "$W/c.out" ]; then
	ok "a user outside the permitted group is refused (exit $rc)"
else
	not_ok "a user outside the permitted group is refused" "exit $rc" "$(cat "$W/c.out")"
fi
check_audit "audit: carol's password was right" auth ok carol
check_audit "audit: carol refused by the application check" \
	account appl_denied carol granting=uacc appl=sshd

# ---- PassTickets --------------------------------------------------------
# The key of the application SSHD (the PAM service, upper-cased), made
# and stored by accordctl; the tickets come from accordctl too (root may
# generate for anyone).  sshpass reads them from the environment.
CTL=${ACCORDCTL:-}
if [ -z "$CTL" ] || ! [ -x "$CTL" ]; then
	not_ok "ACCORDCTL names this build's accordctl" "ACCORDCTL=$CTL"
else
	ctl() { ACCORD_CONF="$A/accord.conf" "$CTL" "$@"; }
	ctl passticket key set SSHD --generate >"$W/key.out" 2>&1 ||
		bail "accordctl passticket key set SSHD --generate" "$(cat "$W/key.out")"
	tk=$(ctl passticket generate --user alice --appl SSHD 2>"$W/gen.err")
	check "accordctl passticket generate prints an 8-character ticket" 8 "${#tk}"
	out=$(SSHPASS=$tk sshpass -e "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 'id -u' 2>"$W/c.err")
	check "alice logs in with a PassTicket (keyboard-interactive)" 0 $?
	check "the ticket's session runs as alice's uid" "$auid" "$out"
	check_audit "audit: alice's ticket accepted (method passticket)" \
		auth ok alice method=passticket failures=0 appl=sshd
	SSHPASS=$tk sshpass -e "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 'echo in' \
		>"$W/c.out" 2>"$W/c.err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ ! -s "$W/c.out" ]; then
		ok "the same ticket replayed is refused (exit $rc)"
	else
		not_ok "the same ticket replayed is refused" "exit $rc" "$(cat "$W/c.out")"
	fi
	check_audit "audit: the replay refused (method passticket)" \
		auth replay alice method=passticket failures=1
	old=$(ctl passticket generate --user alice --appl SSHD --time $(($(date +%s) - 700)) \
		2>"$W/gen.err")
	SSHPASS=$old sshpass -e "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 'echo in' \
		>"$W/c.out" 2>"$W/c.err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ ! -s "$W/c.out" ]; then
		ok "a ticket generated 700 s ago is refused (exit $rc)"
	else
		not_ok "a ticket generated 700 s ago is refused" "exit $rc" "$(cat "$W/c.out")"
	fi
	check_audit "audit: the expired ticket refused (method passticket)" \
		auth ticket_expired alice method=passticket failures=2
	# the password still works on that stack, and resets the count
	out=$(sshpass -p 'Alice-pw-1' "${SSH[@]}" "${KBD[@]}" alice@127.0.0.1 'echo in' 2>/dev/null)
	check "alice's password still works beside tickets" "in" "$out"
	if grep -qF -e "$tk" -e "$old" "$A/audit.log" "$W/sshd.log"; then
		not_ok "no ticket in the audit file or sshd's log"
	else
		ok "no ticket in the audit file or sshd's log"
	fi
fi

# ---- certificates: the challenge through keyboard-interactive ----------
# accord-sign is ssh's SSH_ASKPASS: ssh runs it once per prompt, and it
# answers each step (certificate parts, then the signature) from the
# environment's ACCORD_SIGN_CERT and ACCORD_SIGN_KEY.
if [ -z "${MKCERT:-}" ] || [ -z "${ACCORD_SIGN:-}" ] || [ -z "$CTL" ]; then
	not_ok "MKCERT, ACCORD_SIGN and ACCORDCTL name this build's tools" \
		"MKCERT=${MKCERT:-} ACCORD_SIGN=${ACCORD_SIGN:-}"
else
	C=$W/certs
	mkdir -p "$C"
	for step in "ca $C/ca --subject /C=GB/O=Example/CN=SSH-Test-CA" \
		"leaf $C/alice --ca $C/ca --subject /C=GB/O=Example/OU=Staff/CN=alice" \
		"leaf $C/other --ca $C/ca --subject /C=GB/O=Example/OU=Staff/CN=other"; do
		# shellcheck disable=SC2086
		"$MKCERT" $step >"$W/mkcert.out" 2>&1 || bail "mkcert $step" "$(cat "$W/mkcert.out")"
	done
	ctl ca add "$C/ca.crt" --label sshca >"$W/ca.out" 2>&1 ||
		bail "accordctl ca add" "$(cat "$W/ca.out")"
	ctl certmap add --user alice --sdn 'CN=alice.OU=Staff.O=Example.C=GB' \
		--idn 'CN=SSH-Test-CA.O=Example.C=GB' --label alice-cert >"$W/map.out" 2>&1 ||
		bail "accordctl certmap add" "$(cat "$W/map.out")"
	# the stack: certificates only (sshd reads its PAM service at every
	# connection)
	sed -e "/^auth/s|pam_accord\.so|$MODULE conf=$A/accord.conf methods=cert cert_source=challenge|" \
		-e "/^auth/!s|pam_accord\.so|$MODULE conf=$A/accord.conf|" "$STACK" >"$W/pam.d/sshd"
	# capture: the answers go through, and the signature is kept
	cat >"$W/capture-askpass" <<SH
#!/bin/sh
out=\$("$ACCORD_SIGN" "\$1") || exit 1
case "\$1" in *want=signature*) printf '%s\n' "\$out" >"$W/saved-sig" ;; esac
printf '%s\n' "\$out"
SH
	cat >"$W/replay-askpass" <<SH
#!/bin/sh
case "\$1" in *want=signature*) cat "$W/saved-sig" ;; *) exec "$ACCORD_SIGN" "\$1" ;; esac
SH
	chmod 755 "$W/capture-askpass" "$W/replay-askpass"
	chmod 600 "$C/alice.key" "$C/other.key"
	ASK=(-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no
		-o NumberOfPasswordPrompts=1)
	signed() { # ASKPASS KEY USER COMMAND
		env SSH_ASKPASS="$1" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
			ACCORD_SIGN_CERT="$C/alice.crt" ACCORD_SIGN_KEY="$2" \
			setsid -w "${SSH[@]}" "${ASK[@]}" "$3@127.0.0.1" "$4" </dev/null
	}
	out=$(signed "$W/capture-askpass" "$C/alice.key" alice 'id -u' 2>"$W/c.err")
	check "alice logs in with her certificate (accord-sign as SSH_ASKPASS)" "$auid" "$out"
	check_audit "audit: alice's certificate logon, mapped by alice-cert (step 1)" \
		auth ok alice method=cert cert_label=alice-cert cert_tier=filter cert_check=ok
	check_audit "audit: the account phase after the certificate" account ok alice
	out=$(signed "$W/replay-askpass" "$C/alice.key" alice 'echo in' 2>"$W/c.err")
	if [ -z "$out" ] && [ -s "$W/saved-sig" ]; then
		ok "a signature replayed from the last logon is refused"
	else
		not_ok "a signature replayed from the last logon is refused" "$out"
	fi
	check_audit "audit: the replayed answer (cert_pop_failed)" auth cert_pop_failed alice \
		method=cert
	out=$(signed "$ACCORD_SIGN" "$C/other.key" alice 'echo in' 2>"$W/c.err")
	check "alice's certificate with another key is refused" "" "$out"
	out=$(signed "$ACCORD_SIGN" "$C/alice.key" carol 'echo in' 2>"$W/c.err")
	check "alice's certificate does not log carol in" "" "$out"
	check_audit "audit: alice's certificate presented for carol" auth cert_user_mismatch carol \
		cert_label=alice-cert
	if grep -q "Accepted keyboard-interactive/pam for alice" "$W/sshd.log"; then
		ok "sshd logged the certificate logon as keyboard-interactive/pam"
	else
		not_ok "sshd logged the certificate logon" "$(tail -20 "$W/sshd.log")"
	fi
fi

if grep -q "Accepted keyboard-interactive/pam for alice" "$W/sshd.log"; then
	ok "sshd logged alice's accepted login"
else
	not_ok "sshd logged alice's accepted login" "$(tail -20 "$W/sshd.log")"
fi
if grep -Eq "Failed keyboard-interactive/pam for carol|Access denied for user carol" \
	"$W/sshd.log"; then
	ok "sshd logged carol's refusal"
else
	not_ok "sshd logged carol's refusal" "$(grep carol "$W/sshd.log" | tail -5)"
fi
if grep -qE 'Alice-pw-1|Carol-pw-1|wrong-pw-1' "$A/audit.log"; then
	not_ok "no password in the audit file"
else
	ok "no password in the audit file"
fi
if grep -qE 'AddressSanitizer|runtime error:' "$W/sshd.log"; then
	not_ok "no sanitizer report in sshd's log" \
		"$(grep -E -A5 'Sanitizer|runtime error' "$W/sshd.log" | head -20)"
fi

finish
