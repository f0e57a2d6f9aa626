#!/bin/bash
# mkcert's interface (tests/tools/mkcert.c), checked with openssl(1):
#   mkcert_test.sh MKCERT OPENSSL
set -u
MKCERT=$(realpath "$1")
OPENSSL=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
no() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else no "$what"; fi; }
refuse() { local what=$1; shift; if "$@" >/dev/null 2>&1; then no "$what"; else ok "$what"; fi; }
cd "$dir" || exit 1

check "root CA" "$MKCERT" ca root --subject '/C=GB/O=Example/CN=Test CA' --days 3650 --serial 1
check "intermediate" "$MKCERT" ca inter --ca root --subject '/C=GB/O=Example/CN=Sub CA' --pathlen 0
out=$("$MKCERT" leaf user1 --ca inter --subject '/C=GB/O=Example/CN=user1+UID=u1' \
	--serial 0x2a --email user1@example.com --upn user1@EXAMPLE.COM)
[ "$out" = "serial 42" ] && ok "leaf prints its serial" || no "leaf prints its serial ($out)"
check "expired leaf" "$MKCERT" leaf old --ca root --subject '/CN=old' --not-before-days -10 --days -1
check "no clientAuth leaf" "$MKCERT" leaf srv --ca root --subject '/CN=srv' --no-clientauth --no-ku
check "CRL" "$MKCERT" crl inter.crl --ca inter --revoke 42 --revoke 0x10 --number 3
check "CRL DER" "$MKCERT" crl root.crl.der --ca root --der

for f in root inter user1; do
	[ -s $f.crt ] && [ -s $f.der ] && [ -s $f.key ] && ok "$f files" || no "$f files"
	[ "$(stat -c %a $f.key)" = 600 ] && ok "$f.key is 0600" || no "$f.key mode"
	grep -q 'BEGIN PRIVATE KEY' $f.key && ok "$f.key is PKCS#8" || no "$f.key PKCS#8"
	cmp -s <("$OPENSSL" x509 -in $f.der -inform DER -outform DER) $f.der &&
		ok "$f.der is DER" || no "$f.der is DER"
done

check "chain verifies" "$OPENSSL" verify -x509_strict -CAfile root.crt -untrusted inter.crt user1.crt
check "client purpose" "$OPENSSL" verify -purpose sslclient -CAfile root.crt -untrusted inter.crt user1.crt
refuse "expired refused" "$OPENSSL" verify -CAfile root.crt old.crt
refuse "serverAuth only refused for client" "$OPENSSL" verify -purpose sslclient -CAfile root.crt srv.crt
cat root.crt inter.crt > bundle.pem
refuse "revoked by the CRL" "$OPENSSL" verify -crl_check -CAfile bundle.pem -CRLfile inter.crl user1.crt
subj=$("$OPENSSL" x509 -in user1.crt -noout -subject -nameopt RFC2253)
[ "$subj" = "subject=UID=u1+CN=user1,O=Example,C=GB" ] && ok "multi-valued RDN" || no "subject ($subj)"
text=$("$OPENSSL" x509 -in user1.crt -noout -text)
grep -q 'email:user1@example.com' <<<"$text" && ok "SAN email" || no "SAN email"
grep -q 'TLS Web Client Authentication' <<<"$text" && ok "EKU clientAuth" || no "EKU"
grep -q 'Digital Signature' <<<"$text" && ok "KU digitalSignature" || no "KU"
"$OPENSSL" crl -in inter.crl -noout -text | grep -q 'Serial Number: 2A' && ok "CRL lists 42" || no "CRL lists 42"
"$OPENSSL" crl -in root.crl.der -inform DER -noout >/dev/null 2>&1 && ok "CRL DER" || no "CRL DER"

refuse "leaf without --ca" "$MKCERT" leaf x --subject '/CN=x'
refuse "bad subject" "$MKCERT" ca x --subject 'CN=x'
refuse "unknown option" "$MKCERT" ca x --subject '/CN=x' --bogus
refuse "missing CA files" "$MKCERT" leaf x --ca nosuch --subject '/CN=x'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
