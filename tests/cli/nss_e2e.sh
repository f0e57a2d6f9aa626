#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: what accordctl writes, glibc programs (getent, id) see through
# the real NSS module, loaded by nss_wrapper from the build tree (no root,
# no nsswitch.conf).  Every write installs the local snapshot, so a new
# process sees the change at once: a deleted user is gone, a changed shell
# is there.
#
#   nss_e2e.sh ACCORDCTL MODULE [PRELOAD...]
#
# MODULE: libnss_accord.so.2 of the build.  PRELOAD: libraries that must
# come before libnss_wrapper.so (the ASan runtime in a gcc ASan build).
# Exits 77 (skipped) without nss_wrapper.
. "$(dirname "$0")/lib.sh" "$@"

if [ ${#EXTRA[@]} -lt 1 ] || [ ! -f "${EXTRA[0]}" ]; then
	bail "usage: nss_e2e.sh ACCORDCTL MODULE [PRELOAD...]"
fi
module=${EXTRA[0]}
preload="${EXTRA[*]:1} libnss_wrapper.so"
preload=${preload# }
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libnss_wrapper\.so' &&
	[ ! -e /usr/lib/x86_64-linux-gnu/libnss_wrapper.so ]; then
	echo "# SKIP: libnss_wrapper.so is not installed"
	exit 77
fi

echo 'root:x:0:0:root:/root:/bin/sh' >"$T/passwd"
echo 'root:x:0:' >"$T/group"
# nss_wrapper does nothing unless both files are set.
wrapped() {
	env LD_PRELOAD="$preload" \
		NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \
		NSS_WRAPPER_MODULE_SO_PATH="$module" \
		NSS_WRAPPER_MODULE_FN_PREFIX=accord \
		NSS_WRAPPER_DISABLE_DEEPBIND=1 \
		ACCORD_SNAPSHOT="$SNAP" "$@" 2>>"$T/werr"
}
# "a,b c" -> "a b c" sorted
sorted() { echo "$1" | tr ', ' '\n\n' | sed '/^$/d' | sort | tr '\n' ' '; }
# uid_of / gid_of NAME (from accordctl)
uid_of() { acc --json user show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
gid_of() { acc --json group show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["gid"])'; }

# The module and nss_wrapper work at all: root from the files, and no
# accord user before there is a snapshot.
check "root through nss_wrapper's files" "root:x:0:0:root:/root:/bin/sh" \
	"$(wrapped getent passwd root)"

expect 0 "init" init --uid-range 160000-160999 --gid-range 170000-170999 || finish
expect 0 "group add dev" group add dev || finish
expect 0 "user add alice" user add alice --groups dev --gecos "Alice Example" --shell /bin/sh || finish
expect 0 "user add bob" user add bob --groups dev --home /srv/bob || finish
auid=$(uid_of alice)
agid=$(gid_of alice)
buid=$(uid_of bob)
bgid=$(gid_of bob)
dev=$(gid_of dev)

check "getent passwd alice" "alice:x:$auid:$agid:Alice Example:/home/alice:/bin/sh" \
	"$(wrapped getent passwd alice)"
check "getent passwd bob" "bob:x:$buid:$bgid::/srv/bob:/bin/bash" \
	"$(wrapped getent passwd bob)"
check "getent passwd <uid of alice>" "alice:x:$auid:$agid:Alice Example:/home/alice:/bin/sh" \
	"$(wrapped getent passwd "$auid")"
line=$(wrapped getent group dev)
check "getent group dev: name and gid" "dev:x:$dev" "$(echo "$line" | cut -d: -f1-3)"
check "getent group dev: members" "$(sorted alice,bob)" "$(sorted "${line##*:}")"
check "getent group <gid of alice's group>" "alice:x:$agid:" "$(wrapped getent group "$agid")"
line=$(wrapped getent initgroups alice)
check "getent initgroups alice" "alice $(sorted "$dev")" \
	"$(echo "$line" | awk '{ $1 = $1; print $1 }') $(sorted "$(echo "$line" | awk '{ $1 = ""; print }')")"
check "id alice" "uid=$auid(alice) gid=$agid(alice) groups=$agid(alice),$dev(dev)" \
	"$(wrapped id alice)"
check "root still comes from the files" "root:x:0:0:root:/root:/bin/sh" \
	"$(wrapped getent passwd root)"
wrapped getent passwd nosuchuser >/dev/null
check "getent passwd nosuchuser: exit 2 (not found)" 2 $?

# After user del, a new process no longer sees the user.
expect 0 "user del bob" user del bob
wrapped getent passwd bob >/dev/null
check "deleted user: getent passwd bob exits 2" 2 $?
wrapped getent passwd "$buid" >/dev/null
check "deleted user: getent passwd <bob's uid> exits 2" 2 $?
line=$(wrapped getent group dev)
check "deleted user: no longer a member of dev" "$(sorted alice)" "$(sorted "${line##*:}")"

# After user mod --shell, a new process sees the new shell.
expect 0 "user mod --shell" user mod alice --shell /bin/zsh
check "changed shell: getent passwd alice" "alice:x:$auid:$agid:Alice Example:/home/alice:/bin/zsh" \
	"$(wrapped getent passwd alice)"
# and a changed uid: the new one answers, the old one does not
expect 0 "user mod --uid" user mod alice --uid 160500
check "changed uid: getent passwd alice" "alice:x:160500:$agid:Alice Example:/home/alice:/bin/zsh" \
	"$(wrapped getent passwd alice)"
wrapped getent passwd "$auid" >/dev/null
check "changed uid: the old uid is not found" 2 $?
# group membership changes
expect 0 "group add ops" group add ops
expect 0 "group adduser ops alice" group adduser ops alice
ops=$(gid_of ops)
check "new membership: id alice" \
	"uid=160500(alice) gid=$agid(alice) groups=$agid(alice),$dev(dev),$ops(ops)" "$(wrapped id alice)"
# a new user is there at once
expect 0 "user add carol" user add carol
check "new user: getent passwd carol" "carol" "$(wrapped getent passwd carol | cut -d: -f1)"
# enumeration sees the current users
check "getent passwd (enumeration): root, alice, carol" "$(sorted root,alice,carol)" \
	"$(sorted "$(wrapped getent passwd | cut -d: -f1 | tr '\n' ',')")"
if [ -s "$T/werr" ]; then
	not_ok "nothing on stderr of the wrapped programs" "$(head -20 "$T/werr")"
else
	ok "nothing on stderr of the wrapped programs"
fi

finish
