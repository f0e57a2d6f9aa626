#!/bin/sh
# SPDX-License-Identifier: MIT
#
# libnss_accord.so.2 exports exactly the glibc NSS entry points and needs
# nothing but libc.
#
#   symbols_test.sh MODULE [--sanitized]
#
# --sanitized: the build links sanitizer runtimes; allow them in NEEDED.
set -u

# Under `meson test --setup valgrind` valgrind would only check this
# shell, and report the shell's own allocations: leave it at once.
case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD /bin/sh "$0" "$@" ;;
esac

if [ $# -lt 1 ]; then
	echo "usage: $0 MODULE [--sanitized]" >&2
	exit 2
fi
so=$1
sanitized=${2:-}
failed=0

want='_nss_accord_endgrent
_nss_accord_endpwent
_nss_accord_getgrent_r
_nss_accord_getgrgid_r
_nss_accord_getgrnam_r
_nss_accord_getpwent_r
_nss_accord_getpwnam_r
_nss_accord_getpwuid_r
_nss_accord_initgroups_dyn
_nss_accord_setgrent
_nss_accord_setpwent'

got=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' | LC_ALL=C sort)
if [ "$got" = "$want" ]; then
	echo "ok - exports exactly the 11 _nss_accord_* entry points"
else
	echo "not ok - exported symbols differ"
	echo "$got" | sed 's/^/#   got: /'
	failed=1
fi

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
if [ "$sanitized" = --sanitized ]; then
	needed=$(echo "$needed" | grep -Ev '^lib(asan|ubsan|lsan|tsan)\.so')
fi
if [ "$needed" = "libc.so.6" ]; then
	echo "ok - NEEDED is libc.so.6 only"
else
	echo "not ok - NEEDED: $(echo $needed)"
	failed=1
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libnss_accord.so.2" ]; then
	echo "ok - SONAME libnss_accord.so.2"
else
	echo "not ok - SONAME is '$soname'"
	failed=1
fi

if [ $failed -eq 0 ]; then
	echo "3 passed, 0 failed"
else
	echo "some checks failed"
fi
exit $failed
