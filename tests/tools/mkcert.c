/* SPDX-License-Identifier: MIT */
/*
 * mkcert: test certificates for shell tests and the demo (tests/chain/
 * certgen.c; EC P-256 keys, SHA-256 signatures).
 *
 *   mkcert ca OUTPREFIX --subject DN [--ca CAPREFIX] [--pathlen N]
 *          [common options]
 *       A CA: self-signed, or an intermediate signed by CAPREFIX.
 *   mkcert leaf OUTPREFIX --ca CAPREFIX --subject DN [--no-clientauth]
 *          [--eku LIST] [--no-eku] [--ku LIST] [--no-ku] [--no-ds]
 *          [--email ADDR]... [--upn UPN]... [--dns NAME]...
 *          [--san SPEC] [common options]
 *       An end-entity certificate: keyUsage critical,digitalSignature
 *       and EKU clientAuth unless told otherwise.  --no-clientauth: EKU
 *       serverAuth; --eku: a comma list of names or dotted OIDs
 *       (clientAuth, serverAuth, emailProtection, codeSigning,
 *       msSmartcardLogin, 1.3.6.1.5.2.3.4 for PKINIT); --no-eku: none;
 *       --ku: a keyUsage list (openssl.cnf syntax); --no-ku: no keyUsage
 *       extension; --no-ds: keyUsage keyAgreement (no digitalSignature).
 *       --email/--upn/--dns add subjectAltName rfc822Name / otherName
 *       msUPN / dNSName; --san appends a raw openssl.cnf SAN spec.
 *   Common options (ca, leaf):
 *       --serial N           decimal or 0x hex; default random 63-bit
 *       --not-before-days D  notBefore = now + D days (default: 1 hour
 *                            ago); negative D is in the past
 *       --days D             notAfter = now + D days (default 365 for a
 *                            CA, 30 for a leaf); negative: expired
 *       --now EPOCH          "now" for the offsets (default: the clock)
 *       --key KEYFILE        reuse a PEM private key (e.g. an earlier
 *                            OUTPREFIX.key) instead of a new key
 *   Writes OUTPREFIX.crt (PEM), OUTPREFIX.der (DER), OUTPREFIX.key
 *   (PKCS#8 PEM, mode 0600) and prints "serial N" (decimal).
 *
 *   mkcert crl OUT --ca CAPREFIX [--revoke SERIAL]... [--days D]
 *          [--last-update-days D] [--number N] [--now EPOCH] [--der]
 *       A CRL of CAPREFIX revoking the serials: lastUpdate now + D days
 *       (default: 1 hour ago), nextUpdate now + --days (default 7).
 *       Writes OUT, PEM or, with --der, DER.
 *
 * DN: "/C=GB/O=Example/CN=user1"; "+" joins attributes into one RDN
 * ("/O=Example/CN=a+UID=b"); "\" escapes "/", "+" and "\".
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../chain/certgen.h"

#define MAX_REVOKE 1024
#define SAN_MAX 2048

static int usage(void)
{
	fprintf(stderr,
		"usage: mkcert ca OUTPREFIX --subject DN [--ca CAPREFIX] "
		"[--pathlen N] [COMMON]\n"
		"       mkcert leaf OUTPREFIX --ca CAPREFIX --subject DN "
		"[--no-clientauth] [--eku LIST] [--no-eku]\n"
		"              [--ku LIST] [--no-ku] [--no-ds] [--email A] "
		"[--upn U] [--dns N] [--san SPEC] [COMMON]\n"
		"       mkcert crl OUT --ca CAPREFIX [--revoke SERIAL]... "
		"[--days D] [--last-update-days D]\n"
		"              [--number N] [--now EPOCH] [--der]\n"
		"COMMON: [--serial N] [--not-before-days D] [--days D] "
		"[--now EPOCH] [--key KEYFILE]\n");
	return 2;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static int san_add(char *san, const char *kind, const char *v)
{
	size_t n = strlen(san);
	int w = snprintf(san + n, SAN_MAX - n, "%s%s%s", n ? "," : "", kind,
			 v);

	if (w < 0 || (size_t)w >= SAN_MAX - n) {
		fprintf(stderr, "mkcert: subjectAltName too long\n");
		return -1;
	}
	return 0;
}

static int write_outputs(const char *prefix, const struct certgen_cert *c)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.crt", prefix);
	if (certgen_write_cert(path, c->x509, false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.der", prefix);
	if (certgen_write_cert(path, c->x509, true) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.key", prefix);
	if (certgen_write_key(path, c->key) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct certgen_opts o;
	struct certgen_crl_opts co;
	struct certgen_cert ca = { 0 }, out = { 0 };
	EVP_PKEY *key = NULL;
	static uint64_t revoke[MAX_REVOKE];
	static char san[SAN_MAX];
	const char *cmd, *outp, *caprefix = NULL, *keyprefix = NULL;
	int64_t now = 0, days = 0, nb_days = 0, lu_days = 0, v;
	bool have_days = false, have_nb = false, have_lu = false, der = false;
	bool is_leaf, is_crl;
	uint64_t u;
	X509_CRL *crl = NULL;
	int i, rc = 1;

	if (argc < 3)
		return usage();
	cmd = argv[1];
	outp = argv[2];
	is_leaf = strcmp(cmd, "leaf") == 0;
	is_crl = strcmp(cmd, "crl") == 0;
	if (!is_leaf && !is_crl && strcmp(cmd, "ca") != 0)
		return usage();
	certgen_opts_init(&o);
	certgen_crl_opts_init(&co);
	o.is_ca = !is_leaf;

	for (i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (strcmp(a, "--no-clientauth") == 0) {
			o.eku = "serverAuth";
			takes = false;
		} else if (strcmp(a, "--no-eku") == 0) {
			o.eku = "";
			takes = false;
		} else if (strcmp(a, "--no-ku") == 0) {
			o.ku = "";
			takes = false;
		} else if (strcmp(a, "--no-ds") == 0) {
			o.ku = "critical,keyAgreement";
			takes = false;
		} else if (strcmp(a, "--der") == 0) {
			der = true;
			takes = false;
		} else if (!val) {
			return usage();
		} else if (strcmp(a, "--subject") == 0) {
			o.subject = val;
		} else if (strcmp(a, "--ca") == 0) {
			caprefix = val;
		} else if (strcmp(a, "--key") == 0) {
			keyprefix = val;
		} else if (strcmp(a, "--eku") == 0) {
			o.eku = val;
		} else if (strcmp(a, "--ku") == 0) {
			o.ku = val;
		} else if (strcmp(a, "--email") == 0) {
			if (san_add(san, "email:", val) < 0)
				return 2;
		} else if (strcmp(a, "--upn") == 0) {
			if (san_add(san, "otherName:msUPN;UTF8:", val) < 0)
				return 2;
		} else if (strcmp(a, "--dns") == 0) {
			if (san_add(san, "DNS:", val) < 0)
				return 2;
		} else if (strcmp(a, "--san") == 0) {
			if (san_add(san, "", val) < 0)
				return 2;
		} else if (strcmp(a, "--serial") == 0) {
			if (parse_u64(val, &u) < 0 || u == 0)
				return usage();
			o.serial = u;
		} else if (strcmp(a, "--number") == 0) {
			if (parse_u64(val, &u) < 0)
				return usage();
			co.number = u;
		} else if (strcmp(a, "--pathlen") == 0) {
			if (parse_i64(val, &v) < 0 || v < 0 || v > 100)
				return usage();
			o.pathlen = (int)v;
		} else if (strcmp(a, "--revoke") == 0) {
			if (co.nrevoked == MAX_REVOKE ||
			    parse_u64(val, &revoke[co.nrevoked]) < 0)
				return usage();
			co.nrevoked++;
		} else if (strcmp(a, "--days") == 0) {
			if (parse_i64(val, &days) < 0 || days < -36500 ||
			    days > 36500)
				return usage();
			have_days = true;
		} else if (strcmp(a, "--not-before-days") == 0) {
			if (parse_i64(val, &nb_days) < 0 || nb_days < -36500 ||
			    nb_days > 36500)
				return usage();
			have_nb = true;
		} else if (strcmp(a, "--last-update-days") == 0) {
			if (parse_i64(val, &lu_days) < 0 || lu_days < -36500 ||
			    lu_days > 36500)
				return usage();
			have_lu = true;
		} else if (strcmp(a, "--now") == 0) {
			if (parse_i64(val, &now) < 0 || now <= 0)
				return usage();
		} else {
			fprintf(stderr, "mkcert: unknown option %s\n", a);
			return usage();
		}
		if (takes)
			i++;
	}
	if ((is_leaf || is_crl) && !caprefix)
		return usage();
	if (!is_crl && !o.subject) {
		fprintf(stderr, "mkcert: --subject is required\n");
		return usage();
	}
	if (!now)
		now = (int64_t)time(NULL);

	if (caprefix && certgen_load(caprefix, &ca) < 0)
		goto out;
	if (is_crl) {
		co.base = now;
		co.revoked = revoke;
		if (have_lu)
			co.last_update = lu_days * CERTGEN_DAY;
		if (have_days)
			co.next_update = days * CERTGEN_DAY;
		crl = certgen_crl(&co, &ca);
		if (!crl || certgen_write_crl(outp, crl, der) < 0)
			goto out;
		rc = 0;
		goto out;
	}

	o.base = now;
	if (have_nb)
		o.not_before = nb_days * CERTGEN_DAY;
	o.not_after = (have_days ? days : is_leaf ? 30 : 365) * CERTGEN_DAY;
	if (san[0])
		o.san = san;
	if (keyprefix) {
		key = certgen_load_key(keyprefix);
		if (!key)
			goto out;
		o.key = key;
	}
	if (certgen_make(&o, caprefix ? &ca : NULL, &out) < 0 ||
	    write_outputs(outp, &out) < 0)
		goto out;
	{
		const ASN1_INTEGER *s = X509_get0_serialNumber(out.x509);

		if (!ASN1_INTEGER_get_uint64(&u, s))
			goto out;
		printf("serial %llu\n", (unsigned long long)u);
	}
	rc = 0;
out:
	X509_CRL_free(crl);
	certgen_cert_free(&out);
	certgen_cert_free(&ca);
	EVP_PKEY_free(key);
	return rc;
}
