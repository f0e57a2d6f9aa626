#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pam_accord.so exports exactly the six PAM service functions: libaccord,
# linked in statically, stays inside.
#
#   symbols_test.sh MODULE
set -u

# Under `meson test --setup valgrind` valgrind would only check this
# shell: leave it at once.
case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD /bin/sh "$0" "$@" ;;
esac

if [ $# -ne 1 ]; then
	echo "usage: $0 MODULE" >&2
	exit 2
fi
so=$1
passed=0
failed=0

want='pam_sm_acct_mgmt
pam_sm_authenticate
pam_sm_chauthtok
pam_sm_close_session
pam_sm_open_session
pam_sm_setcred'

got=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' | LC_ALL=C sort)
if [ "$got" = "$want" ]; then
	passed=$((passed + 1))
	echo "ok - exports exactly the 6 pam_sm_* functions"
else
	failed=$((failed + 1))
	echo "not ok - exported symbols differ"
	echo "$got" | sed 's/^/#   got: /'
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ -z "$soname" ]; then
	passed=$((passed + 1))
	echo "ok - no SONAME (a module, not a library)"
else
	failed=$((failed + 1))
	echo "not ok - SONAME $soname"
fi

if readelf -d "$so" | grep -q 'TEXTREL'; then
	failed=$((failed + 1))
	echo "not ok - text relocations"
else
	passed=$((passed + 1))
	echo "ok - no text relocations"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
