#!/bin/bash
# SPDX-License-Identifier: MIT
#
# accordctl storage attach through an idmapped mount (mount_setattr with
# MOUNT_ATTR_IDMAP): two registries stand for two hosts with other IDs for
# the same names.  Everything runs in a private mount namespace
# (unshare -m --propagation private) on a tmpfs made there: nothing is
# mounted on the host.  The files show this registry's IDs through PATH,
# the IDs on disk (seen through a plain bind mount made before) do not
# change, unrelated IDs show as they are; attach again changes nothing;
# a lost mount (reboot, remount) is made again by attach --apply; detach
# unmounts it; --chown converts instead.  Needs root; skipped (77) when
# the kernel or tmpfs refuses idmapped mounts.
#
#   idmap.sh ACCORDCTL
# Under `meson test --setup valgrind`: leave valgrind before starting
# unshare, and have lib.sh run accordctl under valgrind instead.
case "${LD_PRELOAD:-}" in
*vgpreload*)
	export ACCORD_TEST_VALGRIND=1
	exec env -u LD_PRELOAD bash "$0" "$@"
	;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "# needs root (mounts in a private mount namespace)"
	exit 77
fi
if [ -z "${ACCORD_IDMAP_NS:-}" ]; then
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "# cannot make a private mount namespace (unshare -m)"
		exit 77
	fi
	ACCORD_IDMAP_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../cli/lib.sh" "$@"

unmount_all() {
	umount -l "$T/fs/vol" 2>/dev/null
	umount -l "$T/fs/vol" 2>/dev/null
	umount -l "$T/raw" 2>/dev/null
	umount -l "$T/fs" 2>/dev/null
}
trap 'unmount_all; cleanup' EXIT

# the test's own tmpfs, and a plain (not idmapped) view of it
mkdir -p "$T/fs" "$T/raw"
mount -t tmpfs -o mode=0755 accord-idmap-test "$T/fs" || bail "mount a tmpfs"
mount --bind "$T/fs" "$T/raw" || bail "bind mount the tmpfs"
VOL=$T/fs/vol
RAW=$T/raw/vol
mkdir -m 0755 "$VOL"

CONF_A=$T/accord.conf
CONF_B=$T/b.conf
REG_B=$T/regb
printf 'registry = %s\nsnapshot = %s\n' "$REG_B" "$T/localb/snapshot" >"$CONF_B"
chmod 0644 "$CONF_B"
on_a() { export ACCORD_CONF=$CONF_A; }
on_b() { export ACCORD_CONF=$CONF_B; }
owners() { (cd "$1" && find . -path ./.accord -prune -o -printf '%p %U %G\n' | sort); }
uid_of() { "$ACCORDCTL" --json user show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
mounts_at() { awk -v p="$1" '$5 == p' /proc/self/mountinfo | wc -l; }
gen() { sed -n 's/^generation = //p' "$REG_B/CURRENT"; }

# ---- A: u1 u2 u3 own the files; also root and an ID nobody knows ----------
on_a
expect 0 "init A" init --uid-range 5000-60000 --gid-range 5000-60000
for u in u1 u2 u3; do run user add "$u"; done
check "A prepared" 0 "$rc"
a1=$(uid_of u1) a2=$(uid_of u2) a3=$(uid_of u3)
for i in 1 2 3; do
	for u in "$a1" "$a2" "$a3"; do
		echo "$u" >"$VOL/f$u-$i"
		chown "$u:$u" "$VOL/f$u-$i"
	done
done
mkdir "$VOL/dir"
chown "$a2:$a3" "$VOL/dir"
touch "$VOL/dir/stranger" "$VOL/rootfile"
chown 777777:777777 "$VOL/dir/stranger"
expect 0 "register on A" storage register "$VOL" --name vol1
owners "$VOL" >"$T/disk"

# ---- B: the same names on other IDs (u3 takes u1's, a swap through u1) -----
on_b
expect 0 "init B" init --uid-range 5000-60000 --gid-range 5000-60000
for u in zz0 u3 u1 u2; do run user add "$u"; done
check "B prepared" 0 "$rc"
b1=$(uid_of u1) b2=$(uid_of u2) b3=$(uid_of u3)
check "the IDs differ" yes "$([ "$a1" != "$b1" ] && [ "$a2" != "$b2" ] && echo yes)"
python3 - "$T/disk" "$a1:$b1" "$a2:$b2" "$a3:$b3" >"$T/expected" <<'EOF'
import sys
m = dict((int(a), int(b)) for a, b in (x.split(":") for x in sys.argv[2:]))
for l in open(sys.argv[1]):
    p, u, g = l.split()
    print(p, m.get(int(u), int(u)), m.get(int(g), int(g)))
EOF

expect 0 "attach --dry-run" storage attach "$VOL" --dry-run
if grep -q 'idmapped mount not available' "$T/out"; then
	echo "# skipped: $(sed -n 's/.*(\(idmapped mount not available[^)]*\)).*/\1/p' "$T/out")"
	exit 77
fi
check "the plan is an idmapped mount" 1 \
	"$(grep -c "ownership: idmapped mount over $VOL (6 IDs mapped, 0 files changed)" "$T/out")"
check "the dry run mounted nothing" 0 "$(mounts_at "$VOL")"
json_dry() { expect 0 "$1" --json storage attach "$VOL" --dry-run; cp "$T/out" "$T/json"; }
json_dry "attach --dry-run --json"
check "json: idmapped_mount" true "$(json_get "$T/json" "d['idmapped_mount']")"
check "json: no file to convert" 0 "$(json_get "$T/json" "d['files_to_convert']")"

expect 0 "attach --apply" storage attach "$VOL" --apply
check "says it attached through an idmapped mount" 1 \
	"$(grep -c 'Attached storage vol1: through an idmapped mount' "$T/out")"
check "PATH is a mount now" 1 "$(mounts_at "$VOL")"
check "it is an idmapped mount" 1 "$(awk -v p="$VOL" '$5 == p' /proc/self/mountinfo | grep -c idmapped)"
check "the files show the IDs of B through PATH" "$(cat "$T/expected")" "$(owners "$VOL")"
check "the IDs on disk are unchanged" "$(cat "$T/disk")" "$(owners "$RAW")"
check "an unrelated ID shows as it is" "777777 777777" "$(stat -c '%u %g' "$VOL/dir/stranger")"
check "root shows as root" "0 0" "$(stat -c '%u %g' "$VOL/rootfile")"
check "audit: idmap-mount" 1 "$(grep -c '"action":"idmap-mount"' "$VOL/.accord/audit.jsonl")"
check "the map is kept on the storage" yes "$([ -f "$RAW/.accord/idmap" ] && echo yes)"
check "and in the registry's record" yes "$([ -f "$REG_B/storages/vol1.idmap" ] && echo yes)"
check "the map: u1 on disk -> u1 here" 1 "$(grep -cx "u $a1 $b1" "$REG_B/storages/vol1.idmap")"
expect 0 "storage show" --json storage show vol1
check "the record has the IDs here" "[$b1]" \
	"$(json_get "$T/out" "[o['id'] for o in d['owners'] if o['name']=='u1' and o['kind']=='user']")"

# a file made and a file given away through the mount
touch "$VOL/new"
chown "$b1:$b1" "$VOL/new"
check "a file given to u1 here is u1 of the disk" "$a1 $a1" "$(stat -c '%u %g' "$RAW/new")"
rm -f "$VOL/new"

g0=$(gen)
expect 0 "attach --apply again" storage attach "$VOL" --apply
check "nothing to do" 1 "$(grep -c 'attached already; nothing to change' "$T/out")"
check "still one mount" 1 "$(mounts_at "$VOL")"
check "no new generation" "$g0" "$(gen)"
check "disk still unchanged" "$(cat "$T/disk")" "$(owners "$RAW")"

# ---- the mount is lost (a reboot, a remount): attach makes it again ---------
umount "$VOL"
check "the mount is gone" 0 "$(mounts_at "$VOL")"
run storage scan vol1
check "scan without the mount is refused" 1 "$([ "$rc" != 0 ] && grep -c 'idmapped mount that is not over' "$T/err")"
check "and changes nothing" "$(cat "$T/disk")" "$(owners "$RAW")"
expect 0 "attach --dry-run names the missing mount" storage attach "$VOL" --dry-run
check "the dry run says so" 1 "$(grep -c 'idmapped mount over .* is missing' "$T/out")"
expect 0 "attach --apply makes it again" storage attach "$VOL" --apply
check "one mount again" 1 "$(mounts_at "$VOL")"
check "the files show the IDs of B again" "$(cat "$T/expected")" "$(owners "$VOL")"
check "a second idmap-mount audit line" 2 "$(grep -c '"action":"idmap-mount"' "$VOL/.accord/audit.jsonl")"
check "no new generation" "$g0" "$(gen)"

# ---- detach unmounts it; attach again after it ------------------------------
expect 0 "detach" storage detach vol1
check "detach says so" 1 "$(grep -c 'idmapped mount unmounted' "$T/out")"
check "no mount after detach" 0 "$(mounts_at "$VOL")"
check "the disk IDs show again" "$(cat "$T/disk")" "$(owners "$VOL")"
expect 0 "attach after detach" storage attach "$VOL" --apply
check "mounted again" 1 "$(mounts_at "$VOL")"
check "with the IDs of B" "$(cat "$T/expected")" "$(owners "$VOL")"

# a mount accord did not make is left alone by detach
umount "$VOL"
mount --bind "$RAW" "$VOL"
expect 0 "detach with another mount over PATH" storage detach vol1
check "that mount is not ours: not unmounted" 0 "$(grep -c 'idmapped mount unmounted' "$T/out")"
check "still mounted" 1 "$(mounts_at "$VOL")"
umount "$VOL"
expect 0 "attach once more" storage attach "$VOL" --apply
check "idmapped again" 1 "$(mounts_at "$VOL")"

# ---- a third registry: its map goes from the disk, not from B's view --------
CONF_C=$T/c.conf
printf 'registry = %s\nsnapshot = %s\n' "$T/regc" "$T/localc/snapshot" >"$CONF_C"
chmod 0644 "$CONF_C"
expect 0 "detach on B" storage detach vol1
export ACCORD_CONF=$CONF_C
expect 0 "init C" init --uid-range 5000-60000 --gid-range 5000-60000
for u in zz0 zz1 zz2 u2 u3 u1; do run user add "$u"; done
c1=$(uid_of u1) c2=$(uid_of u2) c3=$(uid_of u3)
python3 - "$T/disk" "$a1:$c1" "$a2:$c2" "$a3:$c3" >"$T/expected_c" <<'EOF'
import sys
m = dict((int(a), int(b)) for a, b in (x.split(":") for x in sys.argv[2:]))
for l in open(sys.argv[1]):
    p, u, g = l.split()
    print(p, m.get(int(u), int(u)), m.get(int(g), int(g)))
EOF
expect 0 "attach on C" storage attach "$VOL" --apply
check "the files show the IDs of C" "$(cat "$T/expected_c")" "$(owners "$VOL")"
check "the disk still has the IDs of A" "$(cat "$T/disk")" "$(owners "$RAW")"
check "C's map goes from the disk" 1 "$(grep -cx "u $a1 $c1" "$T/regc/storages/vol1.idmap")"
expect 0 "detach on C" storage detach vol1
on_b
expect 0 "back on B" storage attach "$VOL" --apply
check "the files show the IDs of B" "$(cat "$T/expected")" "$(owners "$VOL")"
check "the disk still has the IDs of A (B)" "$(cat "$T/disk")" "$(owners "$RAW")"

# ---- --chown converts instead (and gives up the mount) ----------------------
expect 0 "attach --apply --chown" storage attach "$VOL" --apply --chown
check "says it converted" 1 "$(grep -c 'ownership converted' "$T/out")"
check "no mount left" 0 "$(mounts_at "$VOL")"
check "the disk has the IDs of B" "$(cat "$T/expected")" "$(owners "$RAW")"
check "the map is gone from the storage" no "$([ -e "$RAW/.accord/idmap" ] && echo yes || echo no)"
check "and from the registry" no "$([ -e "$REG_B/storages/vol1.idmap" ] && echo yes || echo no)"
expect 0 "attach again after --chown" storage attach "$VOL" --apply
check "nothing to do after --chown" 1 "$(grep -c 'attached already; nothing to change' "$T/out")"
check "still no mount" 0 "$(mounts_at "$VOL")"

finish
