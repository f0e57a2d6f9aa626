#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Passwords and logon state through accordctl: user passwd from stdin and
# from a terminal (no echo, asked twice), its refusals, passwd --none, the
# logon state in user show, resume (an administrator's revoke, and, when
# the PAM module is given, a revoke after failed logons made through real
# libpam), revoke and resume dates, and user del removing the secrets.
#
#   passwd.sh ACCORDCTL [PAM_ACCORD_SO]
. "$(dirname "$0")/lib.sh" "$@"
PAM_MODULE=${EXTRA[0]:-}
[ -z "$PAM_MODULE" ] || PAM_MODULE=$(realpath "$PAM_MODULE")

# The test's configuration: revoke after 3 bad passwords, 10 characters.
printf 'registry = %s\nsnapshot = %s\nrevoke_after = 3\npassword_min_length = 10\naudit_file = %s\n' \
	"$REG" "$SNAP" "$T/audit.log" >"$T/accord.conf"

pwfile() { echo "$REG/secrets/password/$1"; }

# refused CODE PATTERN DESC INPUT ARGS...: INPUT on stdin; exit CODE,
# PATTERN on stderr, registry and password files unchanged.
refused() {
	local code=$1 pat=$2 d=$3 input=$4 before after
	shift 4
	before=$(registry_state; ls -l --time-style=+%s.%N "$REG/secrets/password" 2>&1; cat "$REG"/secrets/password/* 2>/dev/null)
	acc "$@" <<<"$input" >"$T/out" 2>"$T/err"
	rc=$?
	san_check "$T/err" "accordctl $*"
	after=$(registry_state; ls -l --time-style=+%s.%N "$REG/secrets/password" 2>&1; cat "$REG"/secrets/password/* 2>/dev/null)
	if [ "$rc" -ne "$code" ]; then
		not_ok "$d: exit $code" "accordctl $*" "exit $rc" "stderr: $(head -c 600 "$T/err")"
	elif ! grep -qiE -- "$pat" "$T/err"; then
		not_ok "$d: exit $code, message names the problem" "expected /$pat/ in stderr" \
			"stderr: $(head -c 600 "$T/err")"
	else
		ok "$d: exit $code, \"$(head -1 "$T/err" | cut -c1-90)\""
	fi
	if [ "$before" = "$after" ]; then
		ok "$d: registry and secrets unchanged"
	else
		not_ok "$d: registry and secrets unchanged" \
			"$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
}
# setpw DESC USER PASSWORD: user passwd USER with PASSWORD on stdin.
setpw() {
	acc user passwd "$2" <<<"$3" >"$T/out" 2>"$T/err"
	rc=$?
	san_check "$T/err" "accordctl user passwd $2"
	if [ "$rc" -eq 0 ]; then
		ok "$1 (exit 0)"
	else
		not_ok "$1 (exit 0)" "exit $rc" "stderr: $(err)"
	fi
}
json_show() {
	acc --json user show "$1" >"$T/json" 2>"$T/err" || not_ok "user show $1 --json" "$(err)"
}
jcheck() {
	check "$1" "$3" "$(json_get "$T/json" "$2")"
}

acc init --uid-range 10000-19999 --gid-range 20000-29999 >/dev/null &&
	acc user add alice >/dev/null &&
	acc user add bob --no-password yes >/dev/null &&
	acc user add carol --protected yes >/dev/null ||
	bail "setting up the registry"

# ---- passwd from stdin -------------------------------------------------------------
g0=$(generation)
setpw "passwd alice from stdin" alice 'correct horse'
check_true "says the password is set" grep -q "Password set for user alice" "$T/out"
check "a password changes no generation" "$g0" "$(generation)"
check_true "the hash file exists" test -f "$(pwfile alice)"
check "the hash file is mode 0600" 600 "$(stat -c %a "$(pwfile alice)")"
check "the secrets directory is mode 0700" 700 "$(stat -c %a "$REG/secrets")"
if grep -q 'correct horse' "$(pwfile alice)"; then
	not_ok "the hash file does not hold the password"
else
	ok "the hash file does not hold the password"
fi
check_true "the hash is yescrypt" grep -q ' \$y\$' "$(pwfile alice)"
h1=$(cat "$(pwfile alice)")
setpw "passwd alice again" alice 'battery staple'
if [ "$h1" != "$(cat "$(pwfile alice)")" ]; then ok "a new password replaces the hash"; else not_ok "a new password replaces the hash"; fi
acc user passwd alice < <(printf 'no newline at all') >"$T/out" 2>"$T/err"
check "a last line without a newline is taken" 0 $?

refused 65 "too short.*password_min_length" "a short password" 'short' user passwd alice
refused 65 "too short" "9 characters (min 10)" '123456789' user passwd alice
refused 65 "too short" "4 three-byte characters are 4, not 12" 'ääää' user passwd alice
refused 65 "empty password" "an empty line" '' user passwd alice
refused 65 "empty password" "no input at all (EOF)" "" user passwd alice </dev/null
refused 65 "control character.*CR" "a password with a CR" $'longenough12\r' user passwd alice
refused 65 "longer than 512" "a password of 600 bytes" "$(printf 'x%.0s' {1..600})" user passwd alice
refused 67 "'nobody' does not exist" "an unknown user" 'long enough pw' user passwd nobody
refused 64 "never from the command line" "a password on the command line" '' user passwd alice 'pw-in-argv'
refused 64 "unknown option" "an unknown option" 'long enough pw' user passwd --stdin alice
acc user add alicealice >/dev/null
refused 65 "is the user name" "the user name as password" 'alicealice' user passwd alicealice

# ---- passwd on a no-password profile lifts no-password; --none sets it -----------------
g0=$(generation)
setpw "passwd bob (no-password)" bob 'bobs password'
check_true "says no-password was lifted" grep -q "no-password lifted" "$T/out"
check "one new generation" "$((g0 + 1))" "$(generation)"
json_show bob
jcheck "bob: no-password is false" 'd["no-password"]' false
expect 0 "passwd --none bob" user passwd --none bob
check_true "says password logons are refused" grep -q "password logons are refused" "$T/out"
json_show bob
jcheck "bob: no-password is true" 'd["no-password"]' true
check_true "bob's hash is gone" test ! -e "$(pwfile bob)"
expect 0 "passwd --none bob again" user passwd --none bob
check_true "again: already" grep -q "already has no-password" "$T/out"
expect 0 "passwd --none on a profile that never had a password" user passwd --none carol
refused 67 "does not exist" "passwd --none for an unknown user" '' user passwd --none nobody

# protected: allowed, with a warning
setpw "passwd carol (protected)" carol 'carols password'
check_true "warns that a protected profile cannot log on" grep -q "warning: user carol is protected" "$T/err"

# ---- from a terminal: no echo, twice, must match ------------------------------------
cat >"$T/termpw.py" <<'EOF'
import os, pty, select, signal, sys, time
prog, user, first, second = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(prog, [prog, "user", "passwd", user])
buf = b""
def expect(s, limit=10.0):
    global buf
    end = time.time() + limit
    while s not in buf and time.time() < end:
        if not select.select([fd], [], [], max(0.0, end - time.time()))[0]:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    return s in buf
ok = expect(b"New password: ")
os.write(fd, first.encode() + b"\n")
ok = ok and expect(b"Retype new password: ")
os.write(fd, second.encode() + b"\n")
expect(b"\x00", 5.0)  # read to the end
for _ in range(50):  # up to 5 s for the exit
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, signal.SIGKILL)  # stuck: fail, do not hang
    _, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
print("\nprompts:%s exit:%d" % ("yes" if ok else "no", os.waitstatus_to_exitcode(status)))
EOF
python3 "$T/termpw.py" "$ACCORDCTL" alice 'typed secret 1' 'typed secret 1' >"$T/tty.out" 2>&1
check_true "terminal: both prompts, exit 0" grep -q "prompts:yes exit:0" "$T/tty.out"
check_true "terminal: the password is set" grep -q "Password set for user alice" "$T/tty.out"
if grep -q 'typed secret' "$T/tty.out"; then
	not_ok "terminal: the password is not echoed" "$(cat "$T/tty.out")"
else
	ok "terminal: the password is not echoed"
fi
h1=$(cat "$(pwfile alice)")
python3 "$T/termpw.py" "$ACCORDCTL" alice 'typed secret 2' 'typed secret 3' >"$T/tty.out" 2>&1
check_true "terminal: a mismatch is refused with exit 65" grep -q "prompts:yes exit:65" "$T/tty.out"
check_true "terminal: says they do not match" grep -q "do not match" "$T/tty.out"
check "terminal: a mismatch leaves the hash" "$h1" "$(cat "$(pwfile alice)")"

# ---- user show: the logon state ------------------------------------------------------
expect 0 "user show alice" user show alice
check_true "show: failures line" grep -qE '^failures: +0 \(revoked at 3\)$' "$T/out"
check_true "show: last logon never" grep -qE '^last logon: +never$' "$T/out"
check_true "show: revoke date line" grep -qE '^revoke date: +-$' "$T/out"
json_show alice
jcheck "json: logon.failures" 'd["logon"]["failures"]' 0
jcheck "json: logon.last_logon" 'd["logon"]["last_logon"]' null
jcheck "json: logon.revoked" 'd["logon"]["revoked"]' null
jcheck "json: status" 'd["status"]' enabled
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	# not root: the store is unreadable; show still works and says so
	chmod 0755 "$T" && chmod -R a+rX "$REG/snap" "$REG/CURRENT" "$REG/registry.meta" 2>/dev/null
	chmod 0644 "$T/accord.conf"
	setpriv --reuid=nobody --regid=nogroup --clear-groups env ACCORD_CONF="$T/accord.conf" \
		"$ACCORDCTL" --registry "$REG" user show alice >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 77 ] && grep -qi "owned by" "$T/err"; then
		# the registry itself refuses a caller that does not own it
		ok "not root: user show (registry refuses non-owners, skipped)"
	else
		check "not root: user show exits 0" 0 "$rc"
		check_true "not root: a note instead of the logon state" \
			grep -qE '^logon state: +not shown' "$T/out"
	fi
fi

# ---- resume: an administrator's revoke, and "not revoked" ---------------------------------
expect 0 "resume a profile that is not revoked" user resume alice
check_true "says 'resume' ignored, not revoked" grep -q "'resume' ignored: user alice is not revoked" "$T/out"
expect 0 "revoke alice" user revoke alice --reason "left the team"
g0=$(generation)
expect 0 "resume alice" user resume alice
check_true "says which revoke was lifted" grep -q "lifted the revoke by an administrator (reason: left the team)" "$T/out"
check "resume: one new generation" "$((g0 + 1))" "$(generation)"
refused 67 "does not exist" "resume an unknown user" '' user resume nobody
expect 0 "--json resume when not revoked" --json user resume alice
cp "$T/out" "$T/json"
jcheck "json resume: changes 0" 'd["changes"]' 0
jcheck "json resume: message" 'd["message"]' "'resume' ignored: user alice is not revoked"

# ---- revoke and resume dates ----------------------------------------------------------
expect 0 "mod --revoke-date in the past" user mod alice --revoke-date 2020-01-01
json_show alice
jcheck "revoke_date stored" 'd["revoke_date"]' 2020-01-01T00:00:00Z
jcheck "status: revoked by date" 'd["status"]' revoked
jcheck "revoke_reason: date" 'd["revoke_reason"]' date
expect 0 "user show: dates" user show alice
check_true "text: revoke date reached" grep -qE '^revoke date: +2020-01-01T00:00:00Z \(reached\)$' "$T/out"
expect 0 "resume does not lift a revoke date" user resume alice
check_true "resume says the revoke date stays" grep -q "revoked only by its revoke date" "$T/out"
expect 0 "mod --resume-date" user mod alice --resume-date '2021-06-01 12:00'
json_show alice
jcheck "resume_date stored" 'd["resume_date"]' 2021-06-01T12:00:00Z
jcheck "a resume date after the revoke date ends it" 'd["status"]' enabled
expect 0 "mod --revoke-date @epoch" user mod alice --revoke-date @4102444800 --resume-date none
json_show alice
jcheck "revoke_date from @epoch" 'd["revoke_date"]' 2100-01-01T00:00:00Z
jcheck "resume_date cleared" 'd["resume_date"]' null
jcheck "a future revoke date does not revoke" 'd["status"]' enabled
expect 0 "mod --revoke-date none" user mod alice --revoke-date none
json_show alice
jcheck "revoke_date cleared" 'd["revoke_date"]' null
refused 64 "takes a date" "a bad date" '' user mod alice --revoke-date tomorrow
refused 64 "takes a date" "a bad resume date" '' user mod alice --resume-date 2026-13-45
refused 64 "apply to 'user mod'" "dates on user add" '' user add dave --revoke-date 2030-01-01

# ---- failures through real libpam (when the module is given) ---------------------------
if [ -n "$PAM_MODULE" ] && [ -f "$PAM_MODULE" ]; then
	mkdir -p "$T/pam.d"
	printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
		"$PAM_MODULE" "$T/accord.conf" "$PAM_MODULE" "$T/accord.conf" >"$T/pam.d/accord-test"
	cat >"$T/pam.py" <<'EOF'
import ctypes, ctypes.util, sys
confdir, user, password = sys.argv[1:4]
pam = ctypes.CDLL("libpam.so.0")
libc = ctypes.CDLL(None)
libc.strdup.restype = ctypes.c_void_p
libc.calloc.restype = ctypes.c_void_p
libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
class Msg(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]
class Resp(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]
CONV = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(Msg)),
                        ctypes.POINTER(ctypes.POINTER(Resp)), ctypes.c_void_p)
def conv(n, msgs, resp, data):
    arr = libc.calloc(n, ctypes.sizeof(Resp))
    r = ctypes.cast(arr, ctypes.POINTER(Resp))
    for i in range(n):
        if msgs[i].contents.msg_style in (1, 2):  # echo off / on
            r[i].resp = libc.strdup(password.encode())
    resp[0] = r
    return 0
class Conv(ctypes.Structure):
    _fields_ = [("conv", CONV), ("appdata_ptr", ctypes.c_void_p)]
c = Conv(CONV(conv), None)
h = ctypes.c_void_p()
pam.pam_start_confdir.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Conv),
                                  ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
rc = pam.pam_start_confdir(b"accord-test", user.encode(), ctypes.byref(c), confdir.encode(),
                           ctypes.byref(h))
if rc != 0:
    print("start:%d" % rc); sys.exit(2)
a = pam.pam_authenticate(h, 0)
m = pam.pam_acct_mgmt(h, 0) if a == 0 else -1
pam.pam_end(h, a)
print("auth:%d acct:%d" % (a, m))
EOF
	pamrun() { python3 "$T/pam.py" "$T/pam.d" "$1" "$2" 2>&1; }
	check "pam: the right password logs on" "auth:0 acct:0" "$(pamrun alice 'typed secret 1')"
	expect 0 "show after a logon" user show alice
	if grep -qE '^last logon: +never$' "$T/out"; then
		not_ok "show: last logon is set after a logon" "$(out)"
	else
		ok "show: last logon is set after a logon"
	fi
	for i in 1 2 3; do
		pamrun alice "wrong $i" >/dev/null
	done
	json_show alice
	jcheck "pam: 3 bad passwords: revoked" 'd["status"]' revoked
	jcheck "pam: revoke_reason failures" 'd["revoke_reason"]' failures
	jcheck "pam: logon.failures 3" 'd["logon"]["failures"]' 3
	jcheck "pam: logon.revoked" 'd["logon"]["revoked"]' failures
	expect 0 "show (text) of a failure revoke" user show alice
	check_true "text: status revoked (reason: failures)" \
		grep -qE '^status: +revoked \(reason: failures\) \(registry: enabled\)$' "$T/out"
	check "pam: a revoked profile is refused even with the right password" "auth:7 acct:-1" \
		"$(pamrun alice 'typed secret 1')"
	g0=$(generation)
	expect 0 "resume a failure revoke" user resume alice
	check_true "resume says the failure revoke was lifted" \
		grep -q "lifted the revoke after 3 failed logons" "$T/out"
	check "resume of a logon revoke alone: no new generation" "$g0" "$(generation)"
	json_show alice
	jcheck "after resume: enabled" 'd["status"]' enabled
	jcheck "after resume: failures 0" 'd["logon"]["failures"]' 0
	check "pam: logs on again after resume" "auth:0 acct:0" "$(pamrun alice 'typed secret 1')"
	# both at once: an administrator's revoke and failures
	pamrun alice wrong >/dev/null
	expect 0 "revoke alice again" user revoke alice
	expect 0 "resume lifts the revoke and resets the count" user resume alice
	check_true "says failure count reset" grep -q "failure count reset to 0" "$T/out"
else
	echo "# no PAM module given: resume of a failure revoke is not tested here"
fi

# ---- user del takes the secrets along ------------------------------------------------------
check_true "carol has a hash before del" test -f "$(pwfile carol)"
expect 0 "user del carol" user del carol
check_true "carol's hash is gone" test ! -e "$(pwfile carol)"
check_true "carol's logon record is gone" test ! -e "$REG/secrets/logon/carol"
acc user add carol >/dev/null
expect 0 "a new carol has no password and no failures" user show carol
check_true "new carol: failures 0" grep -qE '^failures: +0 ' "$T/out"
expect 0 "check passes" check
finish
