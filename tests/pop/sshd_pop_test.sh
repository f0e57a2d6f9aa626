#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The certificate challenge through a real OpenSSH: sshd on 127.0.0.1
# with pam_wrapper (its PAM service from a scratch directory) and the
# test module pam_certpop_test.so (pa_cert_obtain(), challenge source,
# nothing else), and ssh with accord-sign as SSH_ASKPASS, configured by
# the environment alone, as a user would.  Checks:
#
#   - an Ed25519 certificate is taken (one part)
#   - an RSA-4096 certificate of ~10 KiB (18 parts, a 684-character
#     signature) is taken: every answer fits ssh's read_passphrase()
#   - a key that is not the certificate's is refused (accord-sign says
#     so; the server sees no signature)
#   - ACCORD_SIGN_EXPECT_HOST naming another host makes accord-sign
#     refuse, and the logon fails
#
# The login account is "nobody" (no shell): the module accepts any
# certificate whose key answers, so nothing with a shell is reachable.
#
#   sshd_pop_test.sh MODULE ACCORD_SIGN [PRELOAD...]
#
# Needs root (sshd's privilege separation), sshd, ssh, openssl and
# pam_wrapper; exits 77 (skipped) without them.

case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;;
esac
set -u
export LC_ALL=C

if [ $# -lt 2 ]; then
	echo "usage: $0 MODULE ACCORD_SIGN [PRELOAD...]" >&2
	exit 2
fi
MODULE=$1
SIGN=$2
shift 2
PRELOAD="$* libpam_wrapper.so"
PRELOAD=${PRELOAD# }
HOSTNAME_BOUND=pop-test.example

skip() {
	echo "# SKIP: $1"
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (sshd privilege separation)"
[ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd"
getent passwd sshd >/dev/null || skip "no sshd privilege-separation user"
getent passwd nobody >/dev/null || skip "no user nobody"
for p in ssh ssh-keygen openssl setsid; do
	command -v "$p" >/dev/null || skip "no $p"
done
[ -e /usr/lib/x86_64-linux-gnu/libpam_wrapper.so ] ||
	/sbin/ldconfig -p 2>/dev/null | grep -q libpam_wrapper.so || skip "no libpam_wrapper.so"

W=$(mktemp -d /tmp/accord-pop-sshd-XXXXXX) || exit 1
chmod 0755 "$W"
SSHD_PID=
pam_dirs_before=$(ls -d /tmp/pam.? 2>/dev/null || true)
cleanup() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	# pam_wrapper's /tmp/pam.<char> directories of our sshd (P4)
	for d in /tmp/pam.?; do
		[ -d "$d" ] || continue
		grep -qxF "$d" <<<"$pam_dirs_before" || rm -rf "$d"
	done
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
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
bail() {
	not_ok "$@"
	finish
}

# ---- credentials ------------------------------------------------------
pad() { head -c "$1" /dev/zero | tr '\0' p; }
openssl req -x509 -newkey ed25519 -nodes -keyout "$W/ed.key" -out "$W/ed.crt" -days 2 \
	-subj "/CN=pop-ed25519" 2>"$W/openssl.err" || bail "openssl" "$(cat "$W/openssl.err")"
openssl req -x509 -newkey rsa:4096 -nodes -keyout "$W/rsa.key" -out "$W/rsa.crt" -days 2 \
	-subj "/CN=pop-rsa4096" -addext "nsComment=$(pad 9000)" 2>"$W/openssl.err" ||
	bail "openssl" "$(cat "$W/openssl.err")"
chmod 0600 "$W/ed.key" "$W/rsa.key"

# ---- sshd -------------------------------------------------------------
install -d -m 0755 -o root -g root /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$W/host_ed25519" || bail "host key"
mkdir "$W/pam.d"
cat >"$W/pam.d/sshd" <<EOF
auth     required $MODULE result=$W/result host=$HOSTNAME_BOUND
account  required pam_permit.so
session  required pam_permit.so
EOF
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$W/pam.d/other"
cat >"$W/sshd_config" <<CFG
ListenAddress 127.0.0.1
HostKey $W/host_ed25519
PidFile $W/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers nobody
StrictModes no
UseDNS no
LogLevel VERBOSE
CFG
WRAP_ENV=(LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/pam.d"
	PAM_WRAPPER_DISABLE_DEEPBIND=1
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
env "${WRAP_ENV[@]}" /usr/sbin/sshd -t -f "$W/sshd_config" >"$W/sshd-t.log" 2>&1 ||
	bail "sshd -t accepts the configuration" "$(cat "$W/sshd-t.log")"

port=$((23000 + $$ % 1000))
for _ in 1 2 3 4 5 6 7 8 9 10; do
	rm -f "$W/sshd.pid"
	: >"$W/sshd.log"
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

# login CERT KEY [EXPECT_HOST]: one ssh logon as nobody with accord-sign
# as askpass; sets $result (the module's line) and $client (ssh's stderr)
login() {
	: >"$W/result"
	client=$(env -u DISPLAY SSH_ASKPASS="$SIGN" SSH_ASKPASS_REQUIRE=force \
		ACCORD_SIGN_CERT="$1" ACCORD_SIGN_KEY="$2" ACCORD_SIGN_EXPECT_HOST="${3:-}" \
		timeout 60 setsid ssh -F /dev/null -p "$port" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		-o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
		nobody@127.0.0.1 true </dev/null 2>&1)
	result=$(cat "$W/result")
}
accepted() { grep -c "Accepted keyboard-interactive/pam for nobody" "$W/sshd.log"; }

login "$W/ed.crt" "$W/ed.key" "$HOSTNAME_BOUND"
case "$result" in
"rc=0 why=ok subject=/CN=pop-ed25519 detail=challenge host=$HOSTNAME_BOUND service=sshd parts=1 "*)
	ok "an Ed25519 certificate through ssh and accord-sign" ;;
*) not_ok "an Ed25519 certificate through ssh and accord-sign" "$result" "$client" ;;
esac
if [ "$(accepted)" = 1 ]; then
	ok "sshd: Accepted keyboard-interactive/pam"
else
	not_ok "sshd: Accepted keyboard-interactive/pam" "$(tail -5 "$W/sshd.log")"
fi
case "$client" in
*"signing for host $HOSTNAME_BOUND, service sshd"*) ok "accord-sign names host and service" ;;
*) not_ok "accord-sign names host and service" "$client" ;;
esac

login "$W/rsa.crt" "$W/rsa.key"
case "$result" in
"rc=0 why=ok subject=/CN=pop-rsa4096 detail=challenge host=$HOSTNAME_BOUND service=sshd parts=18 "*)
	ok "an RSA-4096 certificate of 18 parts" ;;
*) not_ok "an RSA-4096 certificate of 18 parts" "$result" "$client" ;;
esac
if [ "$(accepted)" = 2 ]; then ok "sshd: Accepted (2)"; else not_ok "sshd: Accepted (2)"; fi

login "$W/ed.crt" "$W/rsa.key"
case "$result" in
"rc=7 why="*) ok "a key that is not the certificate's is refused ($result)" ;;
*) not_ok "a key that is not the certificate's is refused" "$result" "$client" ;;
esac
case "$client" in
*"does not belong to the certificate"*) ok "accord-sign says the key is not the certificate's" ;;
*) not_ok "accord-sign says the key is not the certificate's" "$client" ;;
esac

login "$W/ed.crt" "$W/ed.key" elsewhere.example
case "$result" in
"rc=0 "* | "") not_ok "a challenge for another host is not answered" "$result" "$client" ;;
*) ok "a challenge for another host is not answered ($result)" ;;
esac
case "$client" in
*"for host $HOSTNAME_BOUND, not elsewhere.example"*) ok "accord-sign names the host it refused" ;;
*) not_ok "accord-sign names the host it refused" "$client" ;;
esac
if [ "$(accepted)" = 2 ]; then
	ok "sshd accepted nothing more"
else
	not_ok "sshd accepted nothing more"
fi
if grep -q "Failed keyboard-interactive/pam for nobody" "$W/sshd.log"; then
	ok "sshd: Failed keyboard-interactive/pam"
else
	not_ok "sshd: Failed keyboard-interactive/pam"
fi

finish
