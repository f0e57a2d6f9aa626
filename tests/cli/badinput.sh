#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every refused command leaves the registry exactly as it was, exits with
# the documented code (accordctl.c, exit_for()) and says on stderr what was
# wrong.  "As it was": the journal and snapshot listings, aborted/, CURRENT,
# every user and group field (JSON) and the local snapshot's bytes.
#
#   badinput.sh ACCORDCTL
. "$(dirname "$0")/lib.sh" "$@"

# registry_state with the test's own configuration, whatever the case set.
state() {
	ACCORD_CONF=$T/accord.conf registry_state
	ls -A "$REG/aborted"
}

# refused CODE PATTERN DESC ARGS...: accordctl ARGS exits CODE, prints a
# message matching PATTERN (grep -E, case-insensitive) on stderr, and
# changes nothing.  CONF (if set) replaces ACCORD_CONF for this run only.
refused() {
	local code=$1 pat=$2 d=$3 before after
	shift 3
	before=$(state)
	if [ -n "${CONF:-}" ]; then
		ACCORD_CONF=$CONF run "$@"
	else
		run "$@"
	fi
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

# ---- a registry with some history -----------------------------------------------
acc init --uid-range 10000-19999 --gid-range 20000-29999 >/dev/null &&
	acc group add dev >/dev/null &&
	acc user add alice --groups dev >/dev/null &&
	acc user add ghost >/dev/null &&
	acc user del ghost >/dev/null &&
	acc user add bert >/dev/null &&
	acc group add gone >/dev/null &&
	acc --json group show gone >"$T/gone.json" &&
	acc group del gone >/dev/null ||
	bail "setting up the registry"
alice_uid=10000
ghost_uid=10001
bert_uid=10002
gone_gid=$(json_get "$T/gone.json" 'd["gid"]')
G0=$(generation)

# ---- names ---------------------------------------------------------------------------
refused 65 "'Upper'.*lower-case" "user name with upper case" user add Upper
refused 65 "'1abc'.*start" "user name starting with a digit" user add 1abc
refused 65 "'-x'.*start" "user name starting with '-'" user add -- -x
refused 64 "unknown option '-x'" "'-x' without -- is an option" user add -x
refused 65 "'a:b'.*position 2" "user name with ':'" user add a:b
refused 65 "'a b'.*position 2" "user name with a space" user add 'a b'
refused 65 "longer than 32" "user name of 33 characters" user add "$(printf 'a%.0s' {1..33})"
refused 65 "empty" "empty user name" user add ''
refused 65 "'Ops'.*lower-case" "group name with upper case" group add Ops
refused 65 "longer than 32" "group name of 40 characters" group add "$(printf 'g%.0s' {1..40})"
refused 65 "empty" "empty group name" group add ''
refused 65 "'a:b'" "group name with ':'" group add a:b

# ---- fields that would corrupt a passwd line ------------------------------------------
refused 65 "GECOS.*':'" "GECOS with ':'" user add bob --gecos 'Bob: the builder'
refused 65 "GECOS.*newline" "GECOS with a newline" user add bob --gecos $'Bob\nroot::0:0::/:/bin/sh'
refused 65 "GECOS.*newline" "mod: GECOS with a newline" user mod alice --gecos $'x\ny'
refused 65 "home.*absolute" "relative home" user add bob --home home/bob
refused 65 "home.*':'" "home with ':'" user add bob --home /home/b:ob
refused 65 "shell.*':'" "shell with ':'" user add bob --shell '/bin/sh:x'
refused 65 "shell.*absolute" "relative shell" user add bob --shell bash
refused 65 "shell.*':'" "mod: shell with ':'" user mod alice --shell '/bin/a:b'

# ---- groups ----------------------------------------------------------------------------
refused 67 "group 'nosuch' does not exist" "unknown group in --groups" user add bob --groups dev,nosuch
refused 67 "group 'nosuch' does not exist" "unknown primary --group" user add bob --group nosuch
refused 67 "group 'nosuch' does not exist" "mod: unknown group in --groups" user mod alice --groups nosuch
refused 67 "user 'nosuch' does not exist" "group adduser of an unknown user" group adduser dev nosuch
refused 67 "group 'nosuch' does not exist" "group adduser to an unknown group" group adduser nosuch alice

# ---- IDs ---------------------------------------------------------------------------------
refused 65 "uid $alice_uid is already held by user 'alice'" "--uid taken" user add bob --uid $alice_uid
refused 65 "uid $ghost_uid .*tombstone" "--uid of a deleted user" user add bob --uid $ghost_uid
refused 65 "outside the registry's uid range 10000-19999" "--uid out of range" user add bob --uid 50000
refused 65 "uid 0 can never" "--uid 0" user add bob --uid 0
refused 65 "uid 0 can never" "--uid 0 even with --shared" user add bob --uid 0 --shared
refused 65 "uid 65535 can never" "--uid 65535" user add bob --uid 65535
refused 65 "uid 4294967295 can never|4294967295" "--uid 2^32-1" user add bob --uid 4294967295
refused 64 "--uid needs a number, not 'abc'" "--uid not a number" user add bob --uid abc
refused 64 "--uid needs a number" "--uid negative" user add bob --uid -5
refused 64 "--uid needs a number" "--uid too large for 32 bits" user add bob --uid 4294967296
refused 64 "--uid needs a number" "--uid with trailing junk" user add bob --uid 10005x
refused 65 "uid $bert_uid is already held by user 'bert'" "mod: --uid taken" \
	user mod alice --uid $bert_uid --shell /bin/sh
refused 65 "uid $ghost_uid .*tombstone" "mod: --uid of a deleted user" user mod alice --uid $ghost_uid
refused 65 "gid 20000 is already held by group 'dev'" "--gid taken" group add ops --gid 20000
refused 65 "gid $gone_gid .*tombstone" "--gid of a deleted group" group add ops --gid "$gone_gid"
refused 65 "outside the registry's gid range" "--gid out of range" group add ops --gid 30000
refused 65 "gid 0 can never" "--gid 0" group add ops --gid 0
refused 65 "gid 65535 can never" "--gid 65535" group add ops --gid 65535
refused 64 "--gid needs a number" "--gid not a number" group add ops --gid x

# ---- duplicates and unknown names --------------------------------------------------------
refused 65 "user 'alice' already exists" "duplicate user" user add alice
refused 65 "group 'dev' already exists" "duplicate group" group add dev
refused 65 "group 'alice' already exists|'alice'" "group with the name of a personal group" group add alice
refused 67 "user 'nosuch' does not exist" "user mod of an unknown user" user mod nosuch --shell /bin/sh
refused 67 "user 'nosuch' does not exist" "user del of an unknown user" user del nosuch
refused 67 "user 'ghost' does not exist" "user del of a deleted user" user del ghost
refused 67 "user 'nosuch' does not exist" "user show of an unknown user" user show nosuch
refused 67 "user 'nosuch' does not exist" "user disable of an unknown user" user disable nosuch
refused 67 "user 'nosuch' does not exist" "user revoke of an unknown user" user revoke nosuch
refused 67 "group 'nosuch' does not exist" "group show of an unknown group" group show nosuch
refused 67 "group 'nosuch' does not exist" "group del of an unknown group" group del nosuch
refused 65 "primary group" "group del of a primary group" group del alice

# ---- usage errors --------------------------------------------------------------------------
refused 64 "usage" "no command" --json
refused 64 "unknown command 'frobnicate'" "unknown command" frobnicate
refused 64 "user: add, mod" "user without a subcommand" user
refused 64 "unknown 'user' command 'rename'" "unknown user subcommand" user rename alice
refused 64 "group: add, del" "group without a subcommand" group
refused 64 "user name is missing" "user add without a name" user add
refused 64 "extra: 'b'" "user add with two names" user add a b
refused 64 "unknown option '--bogus'" "user add with an unknown option" user add bob --bogus
refused 64 "--uid needs a value" "--uid without a value" user add bob --uid
refused 64 "--protected takes 'yes' or 'no'" "--protected maybe" user add bob --protected maybe
refused 64 "one user name" "user show with two names" user show alice bob
refused 64 "user name is missing" "user del without a name" user del
refused 64 "takes no arguments" "user list with an argument" user list alice
refused 64 "--reason needs a value" "revoke --reason without a value" user revoke alice --reason
refused 64 "--reason" "enable --reason (only revoke takes one)" user enable alice --reason x
refused 64 "group add takes one group name" "group add without a name" group add
refused 64 "usage: accordctl group adduser" "group adduser with one name" group adduser dev
refused 64 "who-has uid N" "who-has without a kind" who-has 10000
refused 64 "who-has uid N" "who-has user" who-has user 10000
refused 64 "needs a number" "who-has uid abc" who-has uid abc
refused 64 "--since needs a generation" "log --since x" log --since x
refused 64 "--since needs a generation" "log --since -1" log --since -1
refused 64 "sync: unknown option" "sync --bogus" sync --bogus
refused 64 "takes no arguments" "check with an argument" check now
refused 64 "--uid-range takes LO-HI" "init --uid-range 5" init --uid-range 5
refused 64 "--registry needs a directory" "--registry without a value" user list --registry
refused 64 "usage: accordctl import" "import without --passwd" import
refused 64 "unknown option" "import with an unknown option" import --shadow /etc/shadow

# ---- the registry and the configuration -------------------------------------------------------
mkdir "$T/notreg"
refused 78 "not an accord registry" "--registry pointing to a non-registry directory" \
	--registry "$T/notreg" user list
refused 78 "not an accord registry" "write to a non-registry directory" \
	--registry "$T/notreg" user add bob
check "nothing created in the non-registry directory" "" "$(ls -A "$T/notreg")"
refused 78 "No such file" "--registry pointing to nothing" --registry "$T/nothing" user list
refused 65 "already an accord registry" "init over an existing registry" init

cp "$T/accord.conf" "$T/gw.conf"
chmod 0664 "$T/gw.conf"
CONF=$T/gw.conf refused 77 "refusing .*gw.conf.*not writable by group" \
	"group-writable config file" user list
cp "$T/accord.conf" "$T/ww.conf"
chmod 0646 "$T/ww.conf"
CONF=$T/ww.conf refused 77 "refusing .*ww.conf" "world-writable config file" user add bob
{ cat "$T/accord.conf"; echo "snapshto = /tmp/x"; } >"$T/typo.conf"
CONF=$T/typo.conf refused 78 "typo.conf:3: unknown key 'snapshto'" "config with an unknown key" \
	user add bob
{ cat "$T/accord.conf"; echo "no equals sign"; } >"$T/noeq.conf"
CONF=$T/noeq.conf refused 78 "noeq.conf:3: expected 'key = value'" "config line without '='" \
	user list
printf 'registry = reg\n' >"$T/rel.conf"
CONF=$T/rel.conf refused 78 "registry.*must be an absolute path" "config with a relative registry" \
	user list
CONF=$T/missing.conf refused 78 "cannot read .*missing.conf" "ACCORD_CONF naming a missing file" \
	user list
mkdir "$T/conf.d"
CONF=$T/conf.d refused 78 "not a regular file" "ACCORD_CONF naming a directory" user list

# --json: the error is also a JSON object on stdout.
run --json user add Upper
if [ "$rc" -eq 65 ] && python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 65, d
assert "Upper" in d["error"], d
EOF
then ok "--json error: {\"error\", \"exit\": 65} on stdout"
else not_ok "--json error: {\"error\", \"exit\": 65} on stdout" "exit $rc" "$(out)"
fi

# ---- import of malformed files -------------------------------------------------------------------
I=$T/in
mkdir "$I"
grp() { printf 'imp:x:20900:\n' >"$I/group"; }
grp
pw() { printf '%s\n' "$@" >"$I/passwd"; }
imp() { # imp CODE PATTERN DESC
	refused "$1" "$2" "import: $3" import --passwd "$I/passwd" --group "$I/group"
}
pw 'u1:x:10100:20900:U One:/home/u1:/bin/sh' 'u2:x:10101:20900::/home/u2:/bin/sh:extra'
imp 65 "passwd:2: expected 7 fields" "8 fields"
pw 'u1:x:10100:20900:U One:/home/u1'
imp 65 "passwd:1: expected 7 fields" "6 fields"
pw 'u1:x:1o100:20900::/home/u1:/bin/sh'
imp 65 "passwd:1: UID '1o100' is not a number" "bad uid"
pw 'u1:x:-1:20900::/home/u1:/bin/sh'
imp 65 "passwd:1: .*UID" "negative uid"
pw 'u1:x:0:20900::/home/u1:/bin/sh'
imp 65 "passwd:1: .*uid 0|passwd:1: .*UID 0" "uid 0"
pw 'u1:x:10100:20901::/home/u1:/bin/sh'
imp 67 "passwd:1: primary GID 20901 of 'u1' is neither" "unknown primary gid"
pw 'u1:x:10100:20900::/home/u1:/bin/sh'
printf 'imp:x:20900:u1,nosuch\n' >"$I/group"
imp 67 "group:1: member 'nosuch' of group 'imp'" "unknown member"
grp
pw 'u1:x:10100:20900::/home/u1:/bin/sh' 'u1:x:10101:20900::/home/u1:/bin/sh'
imp 65 "passwd:2: user 'u1' already exists" "duplicate name in the file"
pw 'alice:x:10100:20900::/home/alice:/bin/sh'
imp 65 "passwd:1: user 'alice' already exists" "name already in the registry"
pw 'u1:x:10100:20900::/home/u1:/bin/sh' 'u2:x:10100:20900::/home/u2:/bin/sh'
imp 65 "passwd:2: .*10100" "duplicate uid in the file"
pw "u1:x:$ghost_uid:20900::/home/u1:/bin/sh"
imp 65 "passwd:1: .*tombstone" "uid of a tombstone"
pw 'u1:x:10100:20900::/home/u1:/bin/sh'
printf 'imp:x:20900:\nimp:x:20901:\n' >"$I/group"
imp 65 "group:2: group 'imp' already exists" "duplicate group name"
grp
pw 'Bad:x:10100:20900::/home/u1:/bin/sh'
imp 65 "passwd:1: .*'Bad'" "invalid user name"
pw 'u1:x:10100:20900::home/u1:/bin/sh'
imp 65 "passwd:1: home.*absolute" "relative home"
python3 -c "print('u1:x:10100:20900:' + 'g' * 70000 + ':/home/u1:/bin/sh')" >"$I/passwd"
imp 65 "passwd:1: line longer than" "a 70 kB line"
printf 'u1:x:10100:20900::/home/u1:/bin/sh\nu2:x:10101:20900:a\0b:/home/u2:/bin/sh\n' >"$I/passwd"
imp 65 "passwd:2: NUL byte" "NUL byte"
pw 'u1:x:10100:20900::/home/u1:/bin/sh' '+::::::'
imp 65 "passwd:2: NIS compat" "+ NIS line"
pw '-baduser::::::' 'u1:x:10100:20900::/home/u1:/bin/sh'
imp 65 "passwd:1: NIS compat" "- NIS line"
pw 'u1:x:10100:20900::/home/u1:/bin/sh'
printf '+:::\n' >"$I/group"
imp 65 "group:1: NIS compat" "+ NIS line in the group file"
grp
refused 66 "cannot read .*/in/none" "import: missing passwd file" import --passwd "$I/none"
refused 66 "cannot read .*/in/none" "import: missing group file" \
	import --passwd "$I/passwd" --group "$I/none"
refused 66 "Is a directory" "import: a directory" import --passwd "$I"

# One bad line among 1000: nothing is imported.
python3 - "$I/passwd" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        uid = "10x" if i == 536 else str(10100 + i)
        f.write(f"bulk{i}:x:{uid}:20900:Bulk {i}:/home/bulk{i}:/bin/sh\n")
EOF
imp 65 "passwd:537: UID '10x'" "line 537 of 1000 bad: all or nothing"
expect 67 "import all or nothing: the good line before the bad one was not imported" \
	user show bulk0
expect 67 "import all or nothing: the group was not imported" group show imp
# and a good passwd with a bad group file
sed -i 's/^bulk536:x:10x:/bulk536:x:10636:/' "$I/passwd"
printf 'imp:x:20900:bulk1,bulk2\nother:x:20901:bulk3,ghost\n' >"$I/group"
imp 67 "group:2: member 'ghost'" "good passwd, bad group file"
expect 67 "bad group file: no user imported" user show bulk1

# ---- a range used up (69), in a registry of its own ---------------------------------------------
printf 'registry = %s/tiny\nsnapshot = %s/tiny-local/snapshot\n' "$T" "$T" >"$T/tiny.conf"
tiny() { ACCORD_CONF=$T/tiny.conf run "$@"; }
tiny init --uid-range 30000-30001 --gid-range 40000-40009
tiny user add t1
tiny user add t2
check "tiny registry: two users fill the uid range" 3 "$(sed -n 's/^generation = //p' "$T/tiny/CURRENT")"
tb=$(ls -A "$T/tiny/journal" "$T/tiny/snap"; cat "$T/tiny/CURRENT")
tiny user add t3
check "uid range used up: exit 69" 69 "$rc"
check_true "uid range used up: the message says so" grep -q "range 30000-30001 is used up" "$T/err"
check "uid range used up: registry unchanged" "$tb" \
	"$(ls -A "$T/tiny/journal" "$T/tiny/snap"; cat "$T/tiny/CURRENT")"
tiny user del t2
tiny user add t3
check "a deleted user's uid is not handed out again: still 69" 69 "$rc"
tiny user add t3 --uid 30500 --shared
check "an explicit --uid outside the range with --shared still works" 0 "$rc"

# ---- and after all that -------------------------------------------------------------------------
check "no refused command made a generation" "$G0" "$(generation)"
check "aborted/ is empty" "" "$(ls -A "$REG/aborted")"
expect 0 "check passes" check
check_true "check: 0 errors" grep -q "^check: 0 errors, 0 warnings$" "$T/out"
# the same files, corrected, do import
printf 'imp:x:20900:bulk1,bulk2\n' >"$I/group"
expect 0 "the corrected files import" import --passwd "$I/passwd" --group "$I/group"
check "import made one generation" "$((G0 + 1))" "$(generation)"

finish
