#!/bin/sh
# SPDX-License-Identifier: MIT
#
# libnss_accord.so.2 through real programs (getent, id) with nss_wrapper
# (which loads the module from the build tree, no root, no nsswitch.conf).
#
#   getent_test.sh MKSNAP MODULE [PRELOAD...]
#
# PRELOAD: libraries that must come before libnss_wrapper.so (the ASan
# runtime in a gcc ASan build).  Prints "ok - ..." / "not ok - ..." per
# check and "N passed, M failed"; exits 1 if anything failed.
set -u

# Under `meson test --setup valgrind` only this shell is wrapped (getent
# and id are not traced), and valgrind then reports the shell's own
# allocations.  Leave valgrind at once: nothing of ours runs in here.
case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD /bin/sh "$0" "$@" ;;
esac

if [ $# -lt 2 ]; then
	echo "usage: $0 MKSNAP MODULE [PRELOAD...]" >&2
	exit 2
fi
mksnap=$1
module=$2
shift 2
preload="$* libnss_wrapper.so"

work=$(mktemp -d "${TMPDIR:-/tmp}/accord-getent-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

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
	for line in "$@"; do
		echo "#   $line"
	done
}
# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "got:      $3"
	fi
}

"$mksnap" "$work/snapshot" --users 2 --big-group 500 >"$work/ids" || {
	echo "not ok - mksnap failed"
	echo "0 passed, 1 failed"
	exit 1
}
id_of() { awk -v k="$1" -v n="$2" -v f="$3" '$1 == k && $2 == n { print $f }' "$work/ids"; }
auid=$(id_of user alice 3)
agid=$(id_of user alice 4)
buid=$(id_of user bob 3)
bgid=$(id_of user bob 4)
dev=$(id_of group dev 3)
ops=$(id_of group ops 3)
big=$(id_of group big 3)

echo 'root:x:0:0:root:/root:/bin/sh' >"$work/passwd"
echo 'root:x:0:' >"$work/group"

# nss_wrapper does nothing unless both files are set.
wrapped() {
	env LD_PRELOAD="$preload" \
	    NSS_WRAPPER_PASSWD="$work/passwd" NSS_WRAPPER_GROUP="$work/group" \
	    NSS_WRAPPER_MODULE_SO_PATH="$module" \
	    NSS_WRAPPER_MODULE_FN_PREFIX=accord \
	    NSS_WRAPPER_DISABLE_DEEPBIND=1 \
	    ACCORD_SNAPSHOT="${snapshot:-$work/snapshot}" "$@"
}
# "a,b,c" or "a b c" -> one sorted line
sorted() { echo "$1" | tr ', ' '\n\n' | sed '/^$/d' | sort | tr '\n' ' '; }

check "getent passwd alice" \
	"alice:x:$auid:$agid:Alice Example:/home/alice:/bin/sh" \
	"$(wrapped getent passwd alice)"
check "getent passwd <uid of bob>" \
	"bob:x:$buid:$bgid:Bob Example:/home/bob:/bin/sh" \
	"$(wrapped getent passwd "$buid")"

line=$(wrapped getent group dev)
check "getent group dev: name, gid" "dev:x:$dev:" "${line%:*}:"
check "getent group dev: members" "$(sorted alice,bob,u0000001,u0000002)" \
	"$(sorted "${line##*:}")"
check "getent group <gid of ops>" "ops:x:$ops:alice" "$(wrapped getent group "$ops")"
line=$(wrapped getent group big)
check "getent group big: 500 members" "500" \
	"$(echo "${line##*:}" | tr ',' '\n' | grep -c '^b[0-9]*$')"
check "getent group big: gid" "big:x:$big" "$(echo "$line" | cut -d: -f1-3)"

line=$(wrapped getent initgroups alice)
check "getent initgroups alice" "alice $(sorted "$dev $ops")" \
	"$(echo "$line" | awk '{ print $1 }') $(sorted "$(echo "$line" | cut -c22-)")"

all=$(wrapped getent passwd)
for want in "root:x:0:0:root:/root:/bin/sh" \
	"alice:x:$auid:$agid:Alice Example:/home/alice:/bin/sh" \
	"bob:x:$buid:$bgid:Bob Example:/home/bob:/bin/sh"; do
	if echo "$all" | grep -qxF "$want"; then
		ok "getent passwd lists ${want%%:*}"
	else
		not_ok "getent passwd lists ${want%%:*}" "$all"
	fi
done
check "getent passwd lists each user once" "" \
	"$(echo "$all" | cut -d: -f1 | sort | uniq -d)"
if wrapped getent group | grep -qxF "ops:x:$ops:alice"; then
	ok "getent group lists ops"
else
	not_ok "getent group lists ops"
fi

check "id alice" \
	"uid=$auid(alice) gid=$agid(alice) groups=$agid(alice),$dev(dev),$ops(ops)" \
	"$(wrapped id alice)"

for key in nosuchuser Alice 4000000; do
	wrapped getent passwd "$key" >/dev/null
	check "getent passwd $key: exit 2 (not found)" 2 $?
done
wrapped getent group nosuchgroup >/dev/null
check "getent group nosuchgroup: exit 2" 2 $?

# No snapshot at all: UNAVAIL, the files still answer.
snapshot=$work/missing
wrapped getent passwd alice >/dev/null
check "missing snapshot: alice not found (exit 2)" 2 $?
check "missing snapshot: root still found" "root:x:0:0:root:/root:/bin/sh" \
	"$(wrapped getent passwd root)"
unset snapshot

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
