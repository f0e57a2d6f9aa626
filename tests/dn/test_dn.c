/* SPDX-License-Identifier: MIT */
/*
 * Distinguished names (common/dn.c): the RACF dotted, RFC 4514 and slash
 * forms, DER names built with OpenSSL in every DirectoryString type, the
 * canonical keys, structural suffix matching, display and RACF starting
 * points; and every refusal, checked for the part it names.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <accord/dn.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define assert_contains(haystack, needle)                                      \
	do {                                                                   \
		const char *h_ = (haystack), *n_ = (needle);                   \
		if (!h_ || !strstr(h_, n_))                                    \
			fail_msg("expected \"%s\" to contain \"%s\"",          \
				 h_ ? h_ : "(null)", n_);                      \
	} while (0)

/* 64 bytes */
#define X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

#define OID_CN "2.5.4.3"
#define OID_EMAIL "1.2.840.113549.1.9.1"
#define OID_MAIL "0.9.2342.19200300.100.1.3"

/* ---- helpers ---- */

static struct accord_dn *parse_form(const char *text, enum accord_dn_form form,
				    unsigned flags)
{
	struct accord_err err = { 0 };
	struct accord_dn *dn = NULL;

	if (accord_dn_parse(text, form, flags, &dn, &err) != 0)
		fail_msg("'%s' refused: %s", text, err.msg);
	assert_non_null(dn);
	return dn;
}

static struct accord_dn *parse(const char *text)
{
	return parse_form(text, ACCORD_DN_AUTO, 0);
}

static void parse_fails(const char *text, enum accord_dn_form form,
			unsigned flags, const char *msg)
{
	struct accord_err err = { 0 };
	struct accord_dn dummy = { 0 }, *dn = &dummy;
	int r;

	r = accord_dn_parse(text, form, flags, &dn, &err);
	if (r == 0)
		fail_msg("'%s' accepted", text ? text : "(null)");
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_null(dn);
	assert_contains(err.msg, msg);
}

static void assert_key(const struct accord_dn *dn, size_t count,
		       const char *want)
{
	char buf[4096];
	int r = accord_dn_key(dn, count, buf, sizeof(buf));

	if (r < 0)
		fail_msg("key of %zu RDNs: %d", count, r);
	assert_string_equal(buf, want);
	assert_int_equal(r, (int)strlen(want));
}

/* The key of the whole name, malloc'd. */
static char *full_key(const struct accord_dn *dn)
{
	char buf[4096];
	int r = accord_dn_key(dn, dn->nrdn, buf, sizeof(buf));

	assert_true(r >= 0);
	return strdup(buf);
}

static void assert_same_key(const struct accord_dn *a,
			    const struct accord_dn *b)
{
	char *ka = full_key(a), *kb = full_key(b);

	assert_string_equal(ka, kb);
	free(ka);
	free(kb);
}

static void assert_format(const struct accord_dn *dn,
			  enum accord_dn_style style, const char *want)
{
	char buf[4096];
	int r = accord_dn_format(dn, style, buf, sizeof(buf));

	if (r < 0)
		fail_msg("format: %d", r);
	assert_string_equal(buf, want);
	assert_int_equal(r, (int)strlen(want));
}

static void assert_ava(const struct accord_ava *a, const char *keyword,
		       const char *oid, const char *value, unsigned flags)
{
	if (keyword)
		assert_string_equal(a->keyword, keyword);
	else
		assert_null(a->keyword);
	assert_string_equal(a->oid, oid);
	assert_string_equal(a->value, value);
	assert_int_equal(a->len, strlen(value));
	assert_int_equal(a->flags, flags);
}

static bool matches(const char *filter, const char *name,
		    enum accord_dn_match mode)
{
	struct accord_dn *f = parse(filter), *n = parse(name);
	bool m = accord_dn_suffix_match(f, n, mode);

	accord_dn_free(f);
	accord_dn_free(n);
	return m;
}

/* One attribute of a DER name built with OpenSSL. */
struct ent {
	const char *oid;   /* numeric, or a short name OpenSSL knows */
	int type;          /* V_ASN1_* (raw bytes) or MBSTRING_UTF8 */
	const char *bytes;
	int len;           /* -1: strlen */
	bool same_rdn;     /* joins the RDN added before (multi-valued) */
};

/* DER of an X.509 Name with the entries in DER order (root first);
 * malloc'd. */
static unsigned char *der_name(const struct ent *e, size_t n, size_t *len)
{
	X509_NAME *nm = X509_NAME_new();
	unsigned char *der = NULL, *copy;
	size_t i;
	int l;

	assert_non_null(nm);
	for (i = 0; i < n; i++) {
		ASN1_OBJECT *obj = OBJ_txt2obj(e[i].oid, 0);

		assert_non_null(obj);
		if (!X509_NAME_add_entry_by_OBJ(nm, obj, e[i].type,
						(const unsigned char *)e[i].bytes,
						e[i].len, -1, e[i].same_rdn ? -1 : 0))
			fail_msg("cannot add %s of type %d", e[i].oid, e[i].type);
		ASN1_OBJECT_free(obj);
	}
	l = i2d_X509_NAME(nm, &der);
	assert_true(l > 0);
	copy = malloc((size_t)l);
	assert_non_null(copy);
	memcpy(copy, der, (size_t)l);
	OPENSSL_free(der);
	X509_NAME_free(nm);
	*len = (size_t)l;
	return copy;
}

static struct accord_dn *from_der(const struct ent *e, size_t n)
{
	struct accord_err err = { 0 };
	struct accord_dn *dn = NULL;
	size_t len;
	unsigned char *der = der_name(e, n, &len);

	if (accord_dn_from_der(der, len, &dn, &err) != 0)
		fail_msg("DER refused: %s", err.msg);
	free(der);
	assert_non_null(dn);
	return dn;
}

static void der_fails(const unsigned char *der, size_t len, const char *msg)
{
	struct accord_err err = { 0 };
	struct accord_dn dummy = { 0 }, *dn = &dummy;
	int r;

	ERR_clear_error();
	r = accord_dn_from_der(der, len, &dn, &err);
	if (r == 0)
		fail_msg("DER accepted, expected \"%s\"", msg);
	/* OpenSSL's complaints are not left for the caller to find */
	assert_int_equal(ERR_peek_error(), 0);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_null(dn);
	assert_contains(err.msg, msg);
}

/* A hand-made Name of one CN whose value has the given tag and bytes
 * (OpenSSL will not encode a bad string); returns its length. */
static size_t der_cn(int tag, const char *bytes, size_t len,
		     unsigned char der[64])
{
	const unsigned char head[13] = { 0x30, (unsigned char)(13 + len) - 2,
					 0x31, (unsigned char)(11 + len) - 2,
					 0x30, (unsigned char)(9 + len) - 2,
					 0x06, 0x03, 0x55, 0x04, 0x03,
					 (unsigned char)tag, (unsigned char)len };

	assert_true(len <= 64 - sizeof(head));
	memcpy(der, head, sizeof(head));
	memcpy(der + sizeof(head), bytes, len);
	return sizeof(head) + len;
}

static void der_cn_fails(int tag, const char *bytes, size_t len)
{
	unsigned char der[64];

	der_fails(der, der_cn(tag, bytes, len, der), "not a DER X.509 Name");
}

static void der_ents_fail(const struct ent *e, size_t n, const char *msg)
{
	size_t len;
	unsigned char *der = der_name(e, n, &len);

	der_fails(der, len, msg);
	free(der);
}

/* ---- the RACF dotted form ---- */

static void test_racf_basic(void **state)
{
	struct accord_dn *dn = parse("CN=adcdd.O=cpwebuser.C=GB");
	char buf[8];

	(void)state;
	assert_int_equal(dn->nrdn, 3);
	assert_int_equal(dn->rdn[0].nava, 1);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "adcdd",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "cpwebuser",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[2].ava[0], "C", "2.5.4.6", "GB", 0);
	assert_int_equal(dn->warnings, ACCORD_DN_W_TRAILING_DOT);
	assert_key(dn, 3, "CN=adcdd,O=cpwebuser,C=gb");
	assert_key(dn, 2, "O=cpwebuser,C=gb");
	assert_key(dn, 1, "C=gb");
	assert_key(dn, 0, "");
	assert_int_equal(accord_dn_key(dn, 4, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(accord_dn_key(dn, 3, buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(accord_dn_key(dn, 0, buf, 0), -ENOSPC);
	assert_int_equal(accord_dn_key(dn, 1, buf, 4), -ENOSPC);
	assert_int_equal(accord_dn_key(dn, 1, buf, 5), 4);
	assert_format(dn, ACCORD_DN_STYLE_RACF, "CN=adcdd.O=cpwebuser.C=GB");
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=adcdd,O=cpwebuser,C=GB");
	accord_dn_free(dn);
	/* a single RDN: no separator, no warning */
	dn = parse("racf:C=GB");
	assert_int_equal(dn->nrdn, 1);
	assert_int_equal(dn->warnings, 0);
	assert_int_equal(dn->rdn[0].ava[0].flags, 0);
	accord_dn_free(dn);
	accord_dn_free(NULL);
}

static void test_racf_checkcert_display(void **state)
{
	/* RACDCERT CHECKCERT's display: periods and commas unescaped, "..",
	 * SP= and T= */
	struct accord_dn *dn = parse(
		"CN=G.T.Miles.T=President.OU=Loans.O=BobsBank,INC..SP=NY.L=Internet.C=USA");

	(void)state;
	assert_int_equal(dn->nrdn, 7);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "G.T.Miles",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], "T", "2.5.4.12", "President",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[2].ava[0], "OU", "2.5.4.11", "Loans",
		   ACCORD_AVA_DOT_COMPAT);
	/* ".." : the value ends in '.', then the separator; no DOT_COMPAT */
	assert_ava(&dn->rdn[3].ava[0], "O", "2.5.4.10", "BobsBank,INC.", 0);
	assert_ava(&dn->rdn[4].ava[0], "ST", "2.5.4.8", "NY",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[6].ava[0], "C", "2.5.4.6", "USA", 0);
	assert_format(dn, ACCORD_DN_STYLE_RACF,
		      "CN=G.T.Miles.T=President.OU=Loans.O=BobsBank,INC..ST=NY.L=Internet.C=USA");
	assert_format(dn, ACCORD_DN_STYLE_RFC4514,
		      "CN=G.T.Miles,T=President,OU=Loans,O=BobsBank\\,INC.,ST=NY,L=Internet,C=USA");
	assert_key(dn, 4, "O=bobsbank\\,inc,ST=ny,L=internet,C=usa");
	accord_dn_free(dn);
	assert_true(matches("O=BobsBank,INC..SP=NY.L=Internet.C=USA",
			    "CN=x,O=BobsBank\\,INC.,ST=NY,L=Internet,C=USA",
			    ACCORD_MATCH_EXACT));
	/* the CHECKCERT display adds no dot to a value that has none */
	assert_false(matches("O=BobsBank,INC..SP=NY.L=Internet.C=USA",
			     "CN=x,O=BobsBank\\,INC,ST=NY,L=Internet,C=USA",
			     ACCORD_MATCH_EXACT));
	/* an escaped dot then the separator: the value ends in '.' */
	dn = parse("O=a\\..L=x");
	assert_ava(&dn->rdn[0].ava[0], "O", "2.5.4.10", "a.", 0);
	accord_dn_free(dn);
	/* three dots: two in the value */
	dn = parse("O=a...L=x");
	assert_ava(&dn->rdn[0].ava[0], "O", "2.5.4.10", "a..", 0);
	accord_dn_free(dn);
}

static void test_racf_verisign(void **state)
{
	/* IBM's filter example has one period where the display rule gives
	 * two: the value is "VeriSign, Inc" and also matches "VeriSign, Inc." */
	static const struct ent cert[] = {
		{ "L", MBSTRING_UTF8, "Internet", -1, false },
		{ "O", MBSTRING_UTF8, "VeriSign, Inc.", -1, false },
		{ "OU", MBSTRING_UTF8, "VeriSign Class 1 Individual Subscriber", -1, false },
	};
	static const struct ent nodot[] = {
		{ "L", MBSTRING_UTF8, "Internet", -1, false },
		{ "O", MBSTRING_UTF8, "VeriSign, Inc", -1, false },
	};
	static const struct ent twodots[] = {
		{ "L", MBSTRING_UTF8, "Internet", -1, false },
		{ "O", MBSTRING_UTF8, "VeriSign, Inc..", -1, false },
	};
	struct accord_dn *f = parse(
		"OU=VeriSign Class 1 Individual Subscriber.O=VeriSign, Inc.L=Internet");
	struct accord_dn *f2 = parse("O=VeriSign, Inc.L=Internet");
	struct accord_dn *c = from_der(cert, ARRAY_SIZE(cert));
	struct accord_dn *c2 = from_der(nodot, ARRAY_SIZE(nodot));
	struct accord_dn *c3 = from_der(twodots, ARRAY_SIZE(twodots));
	char k1[256], k2[256];

	(void)state;
	assert_int_equal(f->nrdn, 3);
	assert_ava(&f->rdn[1].ava[0], "O", "2.5.4.10", "VeriSign, Inc",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&f->rdn[2].ava[0], "L", "2.5.4.7", "Internet", 0);
	assert_true(f->warnings & ACCORD_DN_W_TRAILING_DOT);
	assert_true(accord_dn_suffix_match(f, c, ACCORD_MATCH_EXACT));
	assert_true(accord_dn_suffix_match(f, c, ACCORD_MATCH_LDAP));
	assert_true(accord_dn_suffix_match(f2, c, ACCORD_MATCH_EXACT));
	assert_true(accord_dn_suffix_match(f2, c2, ACCORD_MATCH_EXACT));
	assert_true(accord_dn_suffix_match(f2, c2, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(f2, c3, ACCORD_MATCH_EXACT));
	assert_false(accord_dn_suffix_match(f2, c3, ACCORD_MATCH_LDAP));
	/* the key is the same whichever value the certificate has */
	assert_same_key(f, c);
	assert_true(accord_dn_key(f2, 2, k1, sizeof(k1)) > 0);
	assert_true(accord_dn_key(c2, 2, k2, sizeof(k2)) > 0);
	assert_string_equal(k1, k2);
	assert_true(accord_dn_key(c, 2, k2, sizeof(k2)) > 0);
	assert_string_equal(k1, k2);
	assert_string_equal(k1, "O=verisign\\, inc,L=internet");
	/* in comma form there is no compatibility: the dot is exact */
	assert_false(matches("O=VeriSign\\, Inc,L=Internet",
			     "O=VeriSign\\, Inc.,L=Internet", ACCORD_MATCH_EXACT));
	assert_false(matches("O=VeriSign\\, Inc,L=Internet",
			     "O=VeriSign\\, Inc.,L=Internet", ACCORD_MATCH_LDAP));
	accord_dn_free(f);
	accord_dn_free(f2);
	accord_dn_free(c);
	accord_dn_free(c2);
	accord_dn_free(c3);
}

static void test_racf_dots_in_values(void **state)
{
	struct accord_dn *dn = parse("CN=a.b.c.O=x");

	(void)state;
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a.b.c",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "x", 0);
	accord_dn_free(dn);
	/* \. is a literal dot even before TYPE= */
	dn = parse("racf:CN=a\\.O=x");
	assert_int_equal(dn->nrdn, 1);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a.O=x", 0);
	accord_dn_free(dn);
	/* also without a prefix (one RDN reads the same in every form) */
	dn = parse("CN=a\\.O=x");
	assert_int_equal(dn->nrdn, 1);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a.O=x", 0);
	accord_dn_free(dn);
	/* a '.' before a numeric OID separates; the first such '.' */
	dn = parse("CN=v1.x.1.2.3.4=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "v1.x",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], NULL, "1.2.3.4", "x", 0);
	accord_dn_free(dn);
	dn = parse("CN=v1.2.3.1.2.3.4=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "v1",
		   ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], NULL, "2.3.1.2.3.4", "x", 0);
	accord_dn_free(dn);
	/* the dots of an OID type do not make RACF form */
	dn = parse("1.2.3.4=a.b");
	assert_int_equal(dn->nrdn, 1);
	assert_ava(&dn->rdn[0].ava[0], NULL, "1.2.3.4", "a.b", 0);
	accord_dn_free(dn);
	dn = parse("CN=host.OID.2.5.4.10=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "x", 0);
	accord_dn_free(dn);
	/* commas need no escaping; a space after '.' makes it literal */
	dn = parse("O=VeriSign, Inc. by Ref.,LIAB.LTD(c)98.C=US");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "O", "2.5.4.10",
		   "VeriSign, Inc. by Ref.,LIAB.LTD(c)98", ACCORD_AVA_DOT_COMPAT);
	accord_dn_free(dn);
	/* spaces are significant in RACF form */
	dn = parse("CN= a .O=x");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, " a ",
		   ACCORD_AVA_DOT_COMPAT);
	accord_dn_free(dn);
	/* multi-valued RDN in dotted form */
	dn = parse("CN=mv+UID=mv1.O=Example.C=GB");
	assert_int_equal(dn->nrdn, 3);
	assert_int_equal(dn->rdn[0].nava, 2);
	assert_ava(&dn->rdn[0].ava[0], "UID", "0.9.2342.19200300.100.1.1",
		   "mv1", ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[0].ava[1], "CN", OID_CN, "mv", 0);
	accord_dn_free(dn);
}

static void test_no_wildcards(void **state)
{
	struct accord_dn *dn = parse("CN=a*.O=c%p?.C=GB");

	(void)state;
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a*", ACCORD_AVA_DOT_COMPAT);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "c%p?",
		   ACCORD_AVA_DOT_COMPAT);
	accord_dn_free(dn);
	assert_false(matches("CN=a*.O=x", "CN=abc,O=x", ACCORD_MATCH_LDAP));
	assert_false(matches("CN=a%.O=x", "CN=ab,O=x", ACCORD_MATCH_LDAP));
	assert_false(matches("CN=a?.O=x", "CN=ab,O=x", ACCORD_MATCH_LDAP));
	assert_true(matches("CN=a*.O=x", "CN=a*,O=x", ACCORD_MATCH_EXACT));
}

/* ---- RFC 4514 ---- */

static void test_rfc4514_escapes(void **state)
{
	struct accord_dn *dn;

	(void)state;
	dn = parse("CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i,O=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a,b+c\"d\\e<f>g;h=i", 0);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514,
		      "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i,O=x");
	assert_key(dn, 2, "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i,O=x");
	assert_int_equal(dn->warnings, 0);
	accord_dn_free(dn);
	/* hex pairs forming UTF-8 */
	dn = parse("CN=J\\C3\\BCrgen,O=x");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "J\xc3\xbcrgen", 0);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=J\xc3\xbcrgen,O=x");
	accord_dn_free(dn);
	/* leading '#' and space, trailing space */
	dn = parse("CN=\\#x\\ ,O=\\ y");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "#x ", 0);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", " y", 0);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=\\#x\\ ,O=\\ y");
	assert_key(dn, 2, "CN=\\#x,O=y");
	accord_dn_free(dn);
	/* leniencies: spaces after ',' '+' and around '=', unescaped trailing
	 * spaces dropped, ';' as separator */
	dn = parse("cn = a b  ,  o =x + uid= y ;c=GB");
	assert_int_equal(dn->nrdn, 3);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a b", 0);
	assert_int_equal(dn->rdn[1].nava, 2);
	assert_ava(&dn->rdn[1].ava[0], "UID", "0.9.2342.19200300.100.1.1", "y", 0);
	assert_ava(&dn->rdn[1].ava[1], "O", "2.5.4.10", "x", 0);
	assert_ava(&dn->rdn[2].ava[0], "C", "2.5.4.6", "GB", 0);
	accord_dn_free(dn);
	/* RFC 1779 quoted values */
	dn = parse("CN=\"Smith, J. + Co\", O = \"a\\\"b\" ,C=GB");
	assert_int_equal(dn->nrdn, 3);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "Smith, J. + Co", 0);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "a\"b", 0);
	accord_dn_free(dn);
	/* '=' and other specials need no escape */
	dn = parse("CN=evil,OU=xO=Example,C=GB");
	assert_ava(&dn->rdn[1].ava[0], "OU", "2.5.4.11", "xO=Example", 0);
	accord_dn_free(dn);
	dn = parse("CN=a<b>\"c\"#,O=x");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a<b>\"c\"#", 0);
	accord_dn_free(dn);
	/* an escape may give a control character */
	dn = parse("CN=a\\0Ab,O=x");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a\nb", 0);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=a\\0Ab,O=x");
	assert_format(dn, ACCORD_DN_STYLE_RACF, "CN=a\\0Ab.O=x");
	assert_key(dn, 2, "CN=a\\0Ab,O=x");
	accord_dn_free(dn);
	/* empty value */
	dn = parse("CN=,O=x");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "", 0);
	accord_dn_free(dn);
}

static void test_rfc4514_hex(void **state)
{
	struct accord_dn *dn = parse("CN=#0C03616263,O=x"), *n;

	(void)state;
	assert_int_equal(dn->rdn[0].ava[0].flags, ACCORD_AVA_HEX);
	assert_int_equal(dn->rdn[0].ava[0].len, 5);
	assert_memory_equal(dn->rdn[0].ava[0].value, "\x0c\x03" "abc", 5);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=#0c03616263,O=x");
	assert_key(dn, 2, "CN=#0c03616263,O=x");
	/* byte-wise in both modes; never equal to a string value */
	n = parse("CN=#0c03616263 , O=X");
	assert_true(accord_dn_suffix_match(dn, n, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(dn, n, ACCORD_MATCH_EXACT));
	accord_dn_free(n);
	n = parse("CN=abc,O=x");
	assert_false(accord_dn_suffix_match(dn, n, ACCORD_MATCH_LDAP));
	accord_dn_free(n);
	accord_dn_free(dn);
	/* BER may hold NUL bytes */
	dn = parse("1.2.3.4=#0400");
	assert_int_equal(dn->rdn[0].ava[0].len, 2);
	assert_key(dn, 1, "1.2.3.4=#0400");
	accord_dn_free(dn);
	/* strings before #hex of the same type, in the set and the key */
	dn = parse("1.2.3.4=#0401+1.2.3.4=#0400+1.2.3.4=\\#0399+1.2.3.4=B");
	assert_int_equal(dn->rdn[0].nava, 4);
	assert_ava(&dn->rdn[0].ava[0], NULL, "1.2.3.4", "#0399", 0);
	assert_ava(&dn->rdn[0].ava[1], NULL, "1.2.3.4", "B", 0);
	assert_int_equal(dn->rdn[0].ava[2].flags, ACCORD_AVA_HEX);
	assert_key(dn, 1,
		   "1.2.3.4=\\#0399+1.2.3.4=b+1.2.3.4=#0400+1.2.3.4=#0401");
	/* RACF display shows #hex (it does not read back as hex) */
	assert_format(dn, ACCORD_DN_STYLE_RACF,
		      "OID.1.2.3.4=#0399+OID.1.2.3.4=B+OID.1.2.3.4=#0400+OID.1.2.3.4=#0401");
	accord_dn_free(dn);
	/* a #hex starting point is a byte prefix */
	{
		struct accord_dn *name = parse("1.2.3.4=#040102,C=GB");
		struct accord_dn *st = parse("1.2.3.4=#0401");
		size_t count = 0;

		assert_int_equal(accord_dn_starting_point(name, st, &count), 0);
		assert_int_equal(count, 2);
		accord_dn_free(st);
		st = parse("1.2.3.4=#0402");
		assert_int_equal(accord_dn_starting_point(name, st, &count),
				 -ENOENT);
		accord_dn_free(st);
		st = parse("1.2.3.4=\\#04");
		assert_int_equal(accord_dn_starting_point(name, st, &count),
				 -ENOENT);
		accord_dn_free(st);
		accord_dn_free(name);
	}
}

static void test_multivalued(void **state)
{
	static const char *const same[] = {
		"UID=mv1+CN=mv,O=Example,C=GB",
		"CN=mv+UID=mv1,O=Example,C=GB",
		"CN=mv + UID=mv1, O=Example, C=GB",
		"CN=mv+UID=mv1.O=Example.C=GB",
		"UID=mv1+CN=mv.O=Example.C=GB",
		"/C=GB/O=Example/CN=mv+UID=mv1",
		"x500:/C=GB/O=Example/UID=mv1+CN=mv",
	};
	static const struct ent der[] = {
		{ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false },
		{ "O", MBSTRING_UTF8, "Example", -1, false },
		{ "CN", MBSTRING_UTF8, "mv", -1, false },
		{ "UID", MBSTRING_UTF8, "mv1", -1, true },
	};
	struct accord_dn *c = from_der(der, ARRAY_SIZE(der)), *f, *flat;
	size_t i;

	(void)state;
	assert_int_equal(c->nrdn, 3);
	assert_int_equal(c->rdn[0].nava, 2);
	assert_key(c, 3, "UID=mv1+CN=mv,O=example,C=gb");
	for (i = 0; i < ARRAY_SIZE(same); i++) {
		f = parse(same[i]);
		assert_int_equal(f->nrdn, 3);
		assert_int_equal(f->rdn[0].nava, 2);
		/* stored as a set: sorted by OID */
		assert_string_equal(f->rdn[0].ava[0].keyword, "UID");
		assert_same_key(f, c);
		if (!accord_dn_suffix_match(f, c, ACCORD_MATCH_EXACT) ||
		    !accord_dn_suffix_match(c, f, ACCORD_MATCH_EXACT))
			fail_msg("'%s' does not match the certificate", same[i]);
		accord_dn_free(f);
	}
	/* SSSD's flattening is a different name */
	flat = parse("UID=mv1,CN=mv,O=Example,C=GB");
	assert_false(accord_dn_suffix_match(flat, c, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(c, flat, ACCORD_MATCH_LDAP));
	accord_dn_free(flat);
	/* a set of one does not match a set of two */
	assert_false(matches("CN=mv,O=Example,C=GB", "CN=mv+UID=mv1,O=Example,C=GB",
			     ACCORD_MATCH_LDAP));
	assert_false(matches("CN=mv+UID=mv1,O=Example,C=GB",
			     "CN=mv+UID=mv2,O=Example,C=GB", ACCORD_MATCH_LDAP));
	/* two AVAs of one type */
	assert_true(matches("CN=b+CN=a,O=x", "CN=a+CN=b,O=x", ACCORD_MATCH_EXACT));
	/* each AVA matched once: both of the filter's fit only "a" */
	assert_false(matches("CN=a+CN=A,O=x", "CN=a+CN=b,O=x", ACCORD_MATCH_LDAP));
	assert_true(matches("CN=a+CN=A,O=x", "CN=A+CN=a,O=x", ACCORD_MATCH_EXACT));
	accord_dn_free(c);
}

static void test_multivalued_set_order(void **state)
{
	/* The stored order is by raw bytes ("A" < "a."), the filter's first
	 * AVA matches both of the name's: only a full matching finds the
	 * pairing (A with a, a. with A.). */
	struct accord_dn *f = parse("racf:CN=a.+CN=A.O=x");
	struct accord_dn *n = parse("CN=A.+CN=a,O=x");
	struct accord_dn *u = parse("CN=B+CN=a,O=x"), *l = parse("CN=b+CN=A,O=x");

	(void)state;
	assert_int_equal(f->rdn[0].nava, 2);
	assert_ava(&f->rdn[0].ava[0], "CN", OID_CN, "A", ACCORD_AVA_DOT_COMPAT);
	assert_ava(&f->rdn[0].ava[1], "CN", OID_CN, "a.", 0);
	assert_true(accord_dn_suffix_match(f, n, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(f, n, ACCORD_MATCH_EXACT));
	assert_same_key(f, n);
	/* case does not reorder the key's set */
	assert_string_equal(u->rdn[0].ava[0].value, "B");
	assert_string_equal(l->rdn[0].ava[0].value, "A");
	assert_same_key(u, l);
	assert_key(u, 2, "CN=a+CN=b,O=x");
	assert_true(accord_dn_suffix_match(u, l, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(u, l, ACCORD_MATCH_EXACT));
	accord_dn_free(f);
	accord_dn_free(n);
	accord_dn_free(u);
	accord_dn_free(l);
}

/* ---- the slash form and detection ---- */

static void test_slash_form(void **state)
{
	struct accord_dn *dn = parse("/C=GB/O=cpwebuser/CN=adcdd"), *r;

	(void)state;
	assert_int_equal(dn->nrdn, 3);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "adcdd", 0);
	assert_ava(&dn->rdn[2].ava[0], "C", "2.5.4.6", "GB", 0);
	assert_int_equal(dn->warnings, 0);
	r = parse("CN=adcdd.O=cpwebuser.C=GB");
	assert_same_key(dn, r);
	assert_true(accord_dn_suffix_match(r, dn, ACCORD_MATCH_EXACT));
	accord_dn_free(r);
	accord_dn_free(dn);
	/* '/' is literal unless TYPE= follows; OpenSSL's \xHH; commas and
	 * dots literal */
	dn = parse("/C=GB/O=a/b, c.d/CN=J\\xC3\\xBCrgen\\/x");
	assert_int_equal(dn->nrdn, 3);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "J\xc3\xbcrgen/x", 0);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "a/b, c.d", 0);
	accord_dn_free(dn);
	dn = parse("  /C=GB/CN=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "x", 0);
	accord_dn_free(dn);
	/* the prefix allows leaving out the first '/' */
	dn = parse("x500:C=GB/CN=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "x", 0);
	accord_dn_free(dn);
	dn = parse_form("C=GB/CN=x", ACCORD_DN_X500, 0);
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[1].ava[0], "C", "2.5.4.6", "GB", 0);
	accord_dn_free(dn);
	/* \x is only the slash form's */
	parse_fails("CN=J\\xC3\\xBC", ACCORD_DN_RFC4514, 0, "invalid escape '\\x'");
}

static void test_detection(void **state)
{
	struct accord_dn *dn;

	(void)state;
	/* one RDN with a comma: RACF (commas are literal there) */
	dn = parse("O=VeriSign, Inc.");
	assert_int_equal(dn->nrdn, 1);
	assert_ava(&dn->rdn[0].ava[0], "O", "2.5.4.10", "VeriSign, Inc.", 0);
	accord_dn_free(dn);
	dn = parse("CN=a,b");
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a,b", 0);
	accord_dn_free(dn);
	parse_fails("rfc4514:CN=a,b", ACCORD_DN_AUTO, 0, "',' at byte 13");
	parse_fails("CN=a,b", ACCORD_DN_RFC4514, 0, "',' at byte 5");
	/* a ',' before TYPE= wins over a '.' before TYPE= */
	dn = parse("CN=a.O=b,C=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a.O=b", 0);
	accord_dn_free(dn);
	dn = parse("racf:CN=a.O=b,C=x");
	assert_int_equal(dn->nrdn, 2);
	assert_ava(&dn->rdn[1].ava[0], "O", "2.5.4.10", "b,C=x", 0);
	accord_dn_free(dn);
	/* a ',' inside an RFC 1779 quoted value does not decide */
	dn = parse("CN=\"a,O=b\"");
	assert_int_equal(dn->nrdn, 1);
	assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "a,O=b", 0);
	accord_dn_free(dn);
	/* '+' alone: one multi-valued RDN, spaces allowed (RFC 4514) */
	dn = parse("CN=a + UID=b");
	assert_int_equal(dn->nrdn, 1);
	assert_int_equal(dn->rdn[0].nava, 2);
	accord_dn_free(dn);
	/* prefixes, any case */
	dn = parse("RACF:CN=a,b.O=x");
	assert_int_equal(dn->nrdn, 2);
	accord_dn_free(dn);
	dn = parse("Rfc4514:CN=a.O=x");
	assert_int_equal(dn->nrdn, 1);
	accord_dn_free(dn);
	dn = parse_form("racf:CN=a.O=x", ACCORD_DN_RACF, 0);
	assert_int_equal(dn->nrdn, 2);
	accord_dn_free(dn);
	parse_fails("x500:/C=GB", ACCORD_DN_RACF, 0,
		    "the prefix 'x500:' contradicts the RACF dotted form");
	/* leading spaces before the first TYPE= */
	dn = parse("  CN=x.O=y");
	assert_int_equal(dn->nrdn, 2);
	accord_dn_free(dn);
}

/* ---- keywords ---- */

static void test_keywords(void **state)
{
	static const struct {
		const char *name, *canon, *oid;
	} kw[] = {
		{ "CN", "CN", "2.5.4.3" },
		{ "ou", "OU", "2.5.4.11" },
		{ "O", "O", "2.5.4.10" },
		{ "L", "L", "2.5.4.7" },
		{ "ST", "ST", "2.5.4.8" },
		{ "SP", "ST", "2.5.4.8" },
		{ "s", "ST", "2.5.4.8" },
		{ "C", "C", "2.5.4.6" },
		{ "Street", "STREET", "2.5.4.9" },
		{ "DC", "DC", "0.9.2342.19200300.100.1.25" },
		{ "UID", "UID", "0.9.2342.19200300.100.1.1" },
		{ "USERID", "UID", "0.9.2342.19200300.100.1.1" },
		{ "T", "T", "2.5.4.12" },
		{ "title", "T", "2.5.4.12" },
		{ "E", "E", OID_EMAIL },
		{ "EMAIL", "E", OID_EMAIL },
		{ "emailAddress", "E", OID_EMAIL },
		{ "MAIL", "MAIL", OID_MAIL },
		{ "SERIALNUMBER", "SERIALNUMBER", "2.5.4.5" },
		{ "DNQ", "DNQ", "2.5.4.46" },
		{ "dnQualifier", "DNQ", "2.5.4.46" },
		{ "SN", "SN", "2.5.4.4" },
		{ "SURNAME", "SN", "2.5.4.4" },
		{ "G", "G", "2.5.4.42" },
		{ "GN", "G", "2.5.4.42" },
		{ "givenName", "G", "2.5.4.42" },
		{ "I", "I", "2.5.4.43" },
		{ "INITIALS", "I", "2.5.4.43" },
		{ "generationQualifier", "GENERATIONQUALIFIER", "2.5.4.44" },
		{ "PC", "PC", "2.5.4.17" },
		{ "postalCode", "PC", "2.5.4.17" },
		{ "NAME", "NAME", "2.5.4.41" },
		{ "pseudonym", "PSEUDONYM", "2.5.4.65" },
		{ "organizationIdentifier", "ORGANIZATIONIDENTIFIER", "2.5.4.97" },
		{ "unstructuredName", "UNSTRUCTUREDNAME", "1.2.840.113549.1.9.2" },
		{ "unstructuredAddress", "UNSTRUCTUREDADDRESS", "1.2.840.113549.1.9.8" },
		{ "OID.2.5.4.3", "CN", "2.5.4.3" },
		{ "oid.2.5.4.10", "O", "2.5.4.10" },
		{ "2.5.4.11", "OU", "2.5.4.11" },
		{ "0.9.2342.19200300.100.1.3", "MAIL", OID_MAIL },
	};
	char text[128];
	struct accord_dn *dn;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(kw); i++) {
		snprintf(text, sizeof(text), "%s=v.O=x", kw[i].name);
		dn = parse(text);
		if (strcmp(dn->rdn[0].ava[0].keyword, kw[i].canon) != 0 ||
		    strcmp(dn->rdn[0].ava[0].oid, kw[i].oid) != 0)
			fail_msg("%s gave %s %s", kw[i].name,
				 dn->rdn[0].ava[0].keyword, dn->rdn[0].ava[0].oid);
		accord_dn_free(dn);
	}
	/* an OID without a keyword */
	dn = parse("1.2.3.4=x,OID.1.3.6.1.4.1.99999.1=y,C=GB");
	assert_ava(&dn->rdn[0].ava[0], NULL, "1.2.3.4", "x", 0);
	assert_ava(&dn->rdn[1].ava[0], NULL, "1.3.6.1.4.1.99999.1", "y", 0);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514,
		      "1.2.3.4=x,1.3.6.1.4.1.99999.1=y,C=GB");
	assert_format(dn, ACCORD_DN_STYLE_RACF,
		      "OID.1.2.3.4=x.OID.1.3.6.1.4.1.99999.1=y.C=GB");
	assert_key(dn, 3, "1.2.3.4=x,1.3.6.1.4.1.99999.1=y,C=gb");
	accord_dn_free(dn);
	/* aliases are equivalent */
	assert_true(matches("SP=NY.C=US", "S=NY,C=US", ACCORD_MATCH_EXACT));
	assert_true(matches("2.5.4.3=a,O=x", "CN=a,O=x", ACCORD_MATCH_EXACT));
}

static void test_email_vs_mail(void **state)
{
	static const struct ent email[] = {
		{ "O", MBSTRING_UTF8, "x", -1, false },
		{ "emailAddress", V_ASN1_IA5STRING, "bob@x.com", -1, false },
	};
	static const struct ent mail[] = {
		{ "O", MBSTRING_UTF8, "x", -1, false },
		{ OID_MAIL, V_ASN1_IA5STRING, "bob@x.com", -1, false },
	};
	struct accord_dn *ce = from_der(email, 2), *cm = from_der(mail, 2);
	struct accord_dn *fe = parse("E=bob@x.com.O=x");
	struct accord_dn *fa = parse("EMAILADDRESS=bob@x.com,O=x");
	struct accord_dn *fm = parse("MAIL=bob@x.com.O=x");

	(void)state;
	assert_ava(&ce->rdn[0].ava[0], "E", OID_EMAIL, "bob@x.com", 0);
	assert_ava(&cm->rdn[0].ava[0], "MAIL", OID_MAIL, "bob@x.com", 0);
	assert_ava(&fe->rdn[0].ava[0], "E", OID_EMAIL, "bob@x.com",
		   ACCORD_AVA_DOT_COMPAT);
	assert_int_equal(fe->warnings, ACCORD_DN_W_TRAILING_DOT);
	assert_int_equal(fa->warnings, 0);
	assert_int_equal(fm->warnings,
			 ACCORD_DN_W_TRAILING_DOT | ACCORD_DN_W_MAIL);
	assert_true(accord_dn_suffix_match(fe, ce, ACCORD_MATCH_EXACT));
	assert_true(accord_dn_suffix_match(fa, ce, ACCORD_MATCH_EXACT));
	assert_false(accord_dn_suffix_match(fm, ce, ACCORD_MATCH_LDAP));
	assert_true(accord_dn_suffix_match(fm, cm, ACCORD_MATCH_EXACT));
	assert_false(accord_dn_suffix_match(fe, cm, ACCORD_MATCH_LDAP));
	assert_key(ce, 2, "E=bob@x.com,O=x");
	assert_key(cm, 2, "MAIL=bob@x.com,O=x");
	accord_dn_free(ce);
	accord_dn_free(cm);
	accord_dn_free(fe);
	accord_dn_free(fa);
	accord_dn_free(fm);
}

/* ---- DER names ---- */

static void test_der_string_types(void **state)
{
	/* "Jürgen" in each encoding */
	static const char bmp[] = "\x00J\x00\xfc\x00r\x00g\x00" "e\x00n";
	static const char univ[] = "\x00\x00\x00J\x00\x00\x00\xfc\x00\x00\x00r"
				   "\x00\x00\x00g\x00\x00\x00" "e\x00\x00\x00n";
	static const struct {
		int type;
		const char *bytes;
		int len;
	} types[] = {
		{ V_ASN1_UTF8STRING, "J\xc3\xbcrgen", 7 },
		{ V_ASN1_BMPSTRING, bmp, 12 },
		{ V_ASN1_UNIVERSALSTRING, univ, 24 },
		{ V_ASN1_T61STRING, "J\xfcrgen", 6 }, /* as Latin-1 */
		{ MBSTRING_UTF8, "J\xc3\xbcrgen", 7 },    /* OpenSSL picks BMP/UTF8 */
	};
	struct accord_dn *f = parse("CN=J\xc3\xbcrgen.OU=a.b.O=x.C=GB"), *c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		const struct ent e[] = {
			{ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false },
			{ "O", V_ASN1_IA5STRING, "x", -1, false },
			{ "OU", V_ASN1_T61STRING, "a.b", -1, false },
			{ "CN", types[i].type, types[i].bytes, types[i].len, false },
		};

		c = from_der(e, ARRAY_SIZE(e));
		assert_int_equal(c->nrdn, 4);
		assert_int_equal(c->warnings, 0);
		/* most specific first */
		assert_ava(&c->rdn[0].ava[0], "CN", OID_CN, "J\xc3\xbcrgen", 0);
		assert_ava(&c->rdn[3].ava[0], "C", "2.5.4.6", "GB", 0);
		assert_same_key(f, c);
		if (!accord_dn_suffix_match(f, c, ACCORD_MATCH_EXACT))
			fail_msg("type %d does not match", types[i].type);
		accord_dn_free(c);
	}
	accord_dn_free(f);
	{
		/* NumericString and an OID OpenSSL has no keyword of ours for */
		const struct ent e[] = {
			{ "serialNumber", V_ASN1_NUMERICSTRING, "12345", -1, false },
			{ "1.3.6.1.4.1.99999.7", V_ASN1_UTF8STRING, "z", -1, false },
		};

		c = from_der(e, ARRAY_SIZE(e));
		assert_ava(&c->rdn[0].ava[0], NULL, "1.3.6.1.4.1.99999.7", "z", 0);
		assert_ava(&c->rdn[1].ava[0], "SERIALNUMBER", "2.5.4.5", "12345", 0);
		assert_key(c, 2, "1.3.6.1.4.1.99999.7=z,SERIALNUMBER=12345");
		accord_dn_free(c);
	}
}

static void test_der_special(void **state)
{
	static const unsigned char seq[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct accord_err err = { 0 };
	struct accord_dn *dn = NULL, *f;
	unsigned char *der = NULL;
	X509_NAME *nm;
	char buf[8];
	int l;

	(void)state;
	/* the empty name (certificates with only a SAN) */
	nm = X509_NAME_new();
	assert_non_null(nm);
	l = i2d_X509_NAME(nm, &der);
	assert_int_equal(l, 2);
	assert_int_equal(accord_dn_from_der(der, (size_t)l, &dn, &err), 0);
	OPENSSL_free(der);
	X509_NAME_free(nm);
	assert_int_equal(dn->nrdn, 0);
	assert_key(dn, 0, "");
	assert_int_equal(accord_dn_key(dn, 1, buf, sizeof(buf)), -EINVAL);
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "");
	f = parse("C=GB");
	assert_false(accord_dn_suffix_match(f, dn, ACCORD_MATCH_LDAP));
	/* an empty filter never matches */
	assert_false(accord_dn_suffix_match(dn, f, ACCORD_MATCH_LDAP));
	assert_false(accord_dn_suffix_match(dn, dn, ACCORD_MATCH_LDAP));
	accord_dn_free(f);
	accord_dn_free(dn);
	{
		/* a value that is not a string keeps its BER, as #hex */
		const struct ent e[] = {
			{ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false },
			{ "1.2.3.4", V_ASN1_SEQUENCE, (const char *)seq, 5, false },
		};

		dn = from_der(e, ARRAY_SIZE(e));
		assert_int_equal(dn->rdn[0].ava[0].flags, ACCORD_AVA_HEX);
		assert_int_equal(dn->rdn[0].ava[0].len, 5);
		assert_memory_equal(dn->rdn[0].ava[0].value, seq, 5);
		assert_key(dn, 2, "1.2.3.4=#3003020105,C=gb");
		assert_format(dn, ACCORD_DN_STYLE_RFC4514, "1.2.3.4=#3003020105,C=GB");
		f = parse("1.2.3.4=#3003020105,C=GB");
		assert_true(accord_dn_suffix_match(f, dn, ACCORD_MATCH_EXACT));
		accord_dn_free(f);
		accord_dn_free(dn);
	}
}

static void test_der_refused(void **state)
{
	static const unsigned char garbage[] = { 0x04, 0x00 };
	/* CN=a, then one byte too many */
	static const unsigned char trailing[] = { 0x30, 0x0c, 0x31, 0x0a, 0x30,
						  0x08, 0x06, 0x03, 0x55, 0x04,
						  0x03, 0x0c, 0x01, 0x61, 0x00 };
	/* SET {} then CN=a */
	static const unsigned char empty_rdn[] = { 0x30, 0x0e, 0x31, 0x00, 0x31,
						   0x0a, 0x30, 0x08, 0x06, 0x03,
						   0x55, 0x04, 0x03, 0x0c, 0x01,
						   0x61 };
	static const struct ent nul[] = {
		{ "CN", V_ASN1_UTF8STRING, "a\0b", 3, false },
	};
	/* CN as a BMPString of 3 bytes: OpenSSL's decoder refuses it */
	static const unsigned char odd_bmp[] = { 0x30, 0x0b, 0x31, 0x09, 0x30,
						 0x07, 0x06, 0x03, 0x55, 0x04,
						 0x03, 0x1e, 0x03, 0x00, 0x4a,
						 0x00 };
	static const struct ent bits[] = {
		{ "CN", V_ASN1_BIT_STRING, "\x01", 1, false },
	};
	static const struct ent dup[] = {
		{ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false },
		{ "CN", MBSTRING_UTF8, "a", -1, false },
		{ "CN", MBSTRING_UTF8, "a", -1, true },
	};
	struct ent many[ACCORD_DN_MAX_RDNS + 1];
	static char big[1100];
	unsigned char *huge;
	size_t i;

	(void)state;
	der_fails(garbage, sizeof(garbage), "not a DER X.509 Name");
	der_fails(trailing, sizeof(trailing), "trailing bytes (1)");
	der_fails(trailing, 0, "no DER name");
	der_fails(NULL, 5, "no DER name");
	der_fails(empty_rdn, sizeof(empty_rdn), "RDN 2 is empty");
	der_ents_fail(nul, 1, "RDN 1: the value of CN holds a NUL");
	der_fails(odd_bmp, sizeof(odd_bmp), "not a DER X.509 Name");
	{
		/* the hand-made encoding itself is sound */
		struct accord_err err = { 0 };
		struct accord_dn *dn = NULL;
		unsigned char der[64];
		size_t l = der_cn(V_ASN1_BMPSTRING, "\x00J\x00\xfc", 4, der);

		assert_int_equal(accord_dn_from_der(der, l, &dn, &err), 0);
		assert_ava(&dn->rdn[0].ava[0], "CN", OID_CN, "J\xc3\xbc", 0);
		accord_dn_free(dn);
	}
	/* strings that do not convert: OpenSSL's decoder already refuses
	 * them (it converts every string for its canonical encoding) */
	der_cn_fails(V_ASN1_BMPSTRING, "\xd8\x00\xdc\x00", 4);
	der_cn_fails(V_ASN1_UNIVERSALSTRING, "\x00\x11\x00\x00", 4);
	der_cn_fails(V_ASN1_UNIVERSALSTRING, "\x00\x00\x00", 3);
	der_cn_fails(V_ASN1_UTF8STRING, "\xc3(", 2);
	der_cn_fails(V_ASN1_UTF8STRING, "\xed\xa0\x80", 3);
	/* VisibleString is not in OpenSSL's DirectoryString set for names */
	der_cn_fails(V_ASN1_VISIBLESTRING, "abc", 3);
	der_ents_fail(bits, 1, "RDN 1: the value of CN has ASN.1 type 3");
	der_ents_fail(dup, ARRAY_SIZE(dup), "RDN 1 holds CN=a twice");
	{
		/* an OID longer than ACCORD_DN_OID_MAX as text */
		const struct ent e[] = {
			{ "1.3.6.1.4.1.99999.1111111111.2222222222.3333333333.4444444444.5555555555",
			  V_ASN1_UTF8STRING, "x", -1, false },
		};

		der_ents_fail(e, 1, "RDN 1: an attribute type whose OID is missing or longer than 63");
	}
	/* 33 RDNs; 32 are fine */
	for (i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct ent){ "OU", MBSTRING_UTF8, "u", -1, false };
	der_ents_fail(many, ARRAY_SIZE(many), "the name has 33 RDNs, more than 32");
	accord_dn_free(from_der(many, ACCORD_DN_MAX_RDNS));
	/* 17 AVAs in one RDN */
	{
		static const char *const v[] = { "a", "b", "c", "d", "e", "f",
						 "g", "h", "i", "j", "k", "l",
						 "m", "n", "o", "p", "q" };

		for (i = 0; i < ARRAY_SIZE(v); i++)
			many[i] = (struct ent){ "OU", MBSTRING_UTF8, v[i], -1, i > 0 };
		der_ents_fail(many, ARRAY_SIZE(v), "RDN 1: more than 16 AVAs");
		accord_dn_free(from_der(many, ACCORD_DN_MAX_AVAS));
	}
	/* longer than 1024 bytes as text */
	memset(big, 'x', sizeof(big) - 1);
	many[0] = (struct ent){ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false };
	many[1] = (struct ent){ "CN", V_ASN1_UTF8STRING, big, -1, false };
	der_ents_fail(many, 2, "longer than 1024 bytes as text (at RDN 1)");
	/* DER longer than any name within the limits */
	huge = calloc(1, 16 * ACCORD_DN_MAX_TEXT + 1);
	assert_non_null(huge);
	der_fails(huge, 16 * ACCORD_DN_MAX_TEXT + 1, "more than 16384");
	free(huge);
}

/* ---- matching ---- */

static void test_suffix_match(void **state)
{
	(void)state;
	/* IBM MQ's example */
	assert_true(matches("O=IBM.C=UK", "CN=QM1,O=IBM,C=UK", ACCORD_MATCH_EXACT));
	assert_true(matches("O=IBM.C=UK", "CN=QM1.O=IBM.C=UK", ACCORD_MATCH_LDAP));
	assert_false(matches("O=IBM.C=UK", "CN=QM1,O=IBM,L=Hursley,C=UK",
			     ACCORD_MATCH_EXACT));
	assert_false(matches("O=IBM.C=UK", "CN=QM1,O=IBM,L=Hursley,C=UK",
			     ACCORD_MATCH_LDAP));
	/* a full filter; a filter longer than the name */
	assert_true(matches("CN=QM1.O=IBM.C=UK", "CN=QM1,O=IBM,C=UK",
			    ACCORD_MATCH_EXACT));
	assert_false(matches("CN=x.CN=QM1.O=IBM.C=UK", "CN=QM1,O=IBM,C=UK",
			     ACCORD_MATCH_LDAP));
	/* a suffix, not a prefix or a subset */
	assert_false(matches("CN=QM1.O=IBM", "CN=QM1,O=IBM,C=UK", ACCORD_MATCH_LDAP));
	/* the OU=xO=Example spoof */
	assert_false(matches("O=Example,C=GB", "CN=evil,OU=xO=Example,C=GB",
			     ACCORD_MATCH_LDAP));
	assert_false(matches("O=Example.C=GB", "CN=evil,OU=xO=Example,C=GB",
			     ACCORD_MATCH_LDAP));
	assert_true(matches("O=Example,C=GB", "CN=good,O=Example,C=GB",
			    ACCORD_MATCH_LDAP));
	/* repeated OU and DC: the order counts */
	assert_true(matches("OU=a.OU=b.O=y", "CN=x,OU=a,OU=b,O=y", ACCORD_MATCH_EXACT));
	assert_false(matches("OU=b.OU=a.O=y", "CN=x,OU=a,OU=b,O=y", ACCORD_MATCH_LDAP));
	assert_true(matches("DC=example,DC=com", "CN=x,DC=example,DC=com",
			    ACCORD_MATCH_LDAP));
	assert_false(matches("DC=com,DC=example", "CN=x,DC=example,DC=com",
			     ACCORD_MATCH_LDAP));
	{
		struct accord_dn *a = parse("OU=a,OU=b,O=y"),
				 *b = parse("OU=b,OU=a,O=y");
		char *ka = full_key(a), *kb = full_key(b);

		assert_string_not_equal(ka, kb);
		free(ka);
		free(kb);
		accord_dn_free(a);
		accord_dn_free(b);
	}
	/* the type counts, not only the value */
	assert_false(matches("OU=IBM.C=UK", "CN=QM1,O=IBM,C=UK", ACCORD_MATCH_LDAP));
	assert_false(matches("racf:CN=a.O=x", "CN=a..,O=x", ACCORD_MATCH_EXACT));
	assert_true(matches("racf:CN=a.O=x", "CN=a.,O=x", ACCORD_MATCH_EXACT));
	assert_false(accord_dn_suffix_match(NULL, NULL, ACCORD_MATCH_LDAP));
}

static void test_case_and_space(void **state)
{
	(void)state;
	/* LDAP: ASCII case folded, spaces trimmed and collapsed */
	assert_true(matches("CN=\\ \\ JOHN   smith\\ ,O=ibm,C=uk",
			    "CN=John Smith,O=IBM,C=UK", ACCORD_MATCH_LDAP));
	assert_false(matches("CN=\\ \\ JOHN   smith\\ ,O=ibm,C=uk",
			     "CN=John Smith,O=IBM,C=UK", ACCORD_MATCH_EXACT));
	assert_true(matches("CN=  JOHN   smith .O=ibm.C=uk",
			    "CN=John Smith,O=IBM,C=UK", ACCORD_MATCH_LDAP));
	assert_false(matches("O=ibm.C=uk", "CN=x,O=IBM,C=UK", ACCORD_MATCH_EXACT));
	assert_true(matches("O=IBM.C=UK", "CN=x,O=IBM,C=UK", ACCORD_MATCH_EXACT));
	/* inner spaces matter once collapsed */
	assert_false(matches("CN=JohnSmith,O=x", "CN=John Smith,O=x",
			     ACCORD_MATCH_LDAP));
	/* non-ASCII is compared as bytes */
	assert_true(matches("CN=J\xc3\xbcRGEN,O=x", "CN=j\xc3\xbcrgen,O=x",
			    ACCORD_MATCH_LDAP));
	assert_false(matches("CN=J\xc3\x9cRGEN,O=x", "CN=j\xc3\xbcrgen,O=x",
			     ACCORD_MATCH_LDAP));
	/* DOT_COMPAT with spaces before the dot, in both modes */
	assert_true(matches("racf:CN=Inc .O=x", "CN=Inc \\.,O=x", ACCORD_MATCH_EXACT));
	assert_true(matches("racf:CN=INC .O=x", "CN=inc  .,O=x", ACCORD_MATCH_LDAP));
	assert_true(matches("racf:CN=INC.O=x", "CN=inc. ,O=x", ACCORD_MATCH_LDAP));
	assert_false(matches("racf:CN=INC.O=x", "CN=inc .,O=x", ACCORD_MATCH_LDAP));
	assert_true(matches("racf:CN=a .O=x", "CN=A.,O=x", ACCORD_MATCH_LDAP));
	assert_true(matches("racf:CN=a .O=x", "CN=A \\.,O=x", ACCORD_MATCH_LDAP));
	assert_false(matches("racf:CN=a .O=x", "CN=a.,O=x", ACCORD_MATCH_EXACT));
	assert_false(matches("racf:CN=a .O=x", "CN=a..,O=x", ACCORD_MATCH_LDAP));
	assert_false(matches("racf:CN=a .O=x", "CN=a.b,O=x", ACCORD_MATCH_LDAP));
	{
		/* keys fold the same way, and drop one trailing dot */
		static const char *const same[] = {
			"CN=John Smith.O=IBM.C=UK",
			"CN=\\ \\ JOHN   smith\\ ,O=ibm,C=uk",
			"CN=john smith.,O=IBM.,C=UK.",
			"CN=john smith .,O=IBM,C=UK",
		};
		struct accord_dn *a = parse(same[0]), *b;
		size_t i;

		assert_key(a, 3, "CN=john smith,O=ibm,C=uk");
		for (i = 1; i < ARRAY_SIZE(same); i++) {
			b = parse(same[i]);
			assert_same_key(a, b);
			accord_dn_free(b);
		}
		/* only one dot */
		b = parse("CN=john smith..,O=IBM,C=UK");
		assert_key(b, 3, "CN=john smith.,O=ibm,C=uk");
		accord_dn_free(b);
		accord_dn_free(a);
	}
}

static void test_keys_across_forms(void **state)
{
	static const char *const forms[] = {
		"CN=adcdd.O=cpwebuser.C=GB",
		"racf:CN=adcdd.O=cpwebuser.C=GB",
		"CN=adcdd,O=cpwebuser,C=GB",
		"rfc4514:cn = adcdd , o=cpwebuser; c=gb",
		"CN=\"adcdd\",O=cpwebuser,C=GB",
		"/C=GB/O=cpwebuser/CN=adcdd",
		"x500:C=GB/O=cpwebuser/CN=adcdd",
		"2.5.4.3=adcdd,OID.2.5.4.10=cpwebuser,C=GB",
	};
	static const struct ent der[] = {
		{ "C", V_ASN1_PRINTABLESTRING, "GB", -1, false },
		{ "O", V_ASN1_UTF8STRING, "cpwebuser", -1, false },
		{ "CN", V_ASN1_BMPSTRING, "\0a\0d\0c\0d\0d", 10, false },
	};
	struct accord_dn *c = from_der(der, ARRAY_SIZE(der)), *f;
	size_t i;

	(void)state;
	assert_key(c, 3, "CN=adcdd,O=cpwebuser,C=gb");
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		f = parse(forms[i]);
		assert_same_key(f, c);
		if (!accord_dn_suffix_match(f, c, ACCORD_MATCH_LDAP))
			fail_msg("'%s' does not match", forms[i]);
		accord_dn_free(f);
	}
	accord_dn_free(c);
}

/* ---- display ---- */

static void round_trip(const char *text)
{
	struct accord_dn *dn = parse(text), *r;
	char buf[4096];
	bool hex = false;
	size_t i, k;

	assert_true(accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, buf,
				     sizeof(buf)) >= 0);
	r = parse(buf);
	assert_same_key(dn, r);
	if (!accord_dn_suffix_match(dn, r, ACCORD_MATCH_EXACT) ||
	    !accord_dn_suffix_match(r, dn, ACCORD_MATCH_EXACT))
		fail_msg("'%s' -> '%s' does not read back", text, buf);
	accord_dn_free(r);
	for (i = 0; i < dn->nrdn; i++)
		for (k = 0; k < dn->rdn[i].nava; k++)
			hex |= dn->rdn[i].ava[k].flags & ACCORD_AVA_HEX;
	if (!hex) {
		assert_true(accord_dn_format(dn, ACCORD_DN_STYLE_RACF, buf,
					     sizeof(buf)) >= 0);
		r = parse_form(buf, ACCORD_DN_RACF, 0);
		assert_same_key(dn, r);
		if (!accord_dn_suffix_match(dn, r, ACCORD_MATCH_EXACT) ||
		    !accord_dn_suffix_match(r, dn, ACCORD_MATCH_EXACT))
			fail_msg("'%s' -> '%s' does not read back", text, buf);
		accord_dn_free(r);
	}
	accord_dn_free(dn);
}

static void test_format(void **state)
{
	static const char *const texts[] = {
		"CN=a\\,b,O=x+UID=y,C=GB",
		"CN=a.O\\=b,C=x",
		"CN=\\ lead,O=trail\\ ,C=\\#x",
		"CN=a\\+b\\+UID\\=c,O=x",
		"CN=v1.2.3.1.2.3.4=x",
		"CN=a\\.1.2.3.4=x",
		"CN=x.1.2,1.2.3=y",
		"CN=a\\\\b\\0D,O=\"q\"",
		"CN=a\\,O=b,C=c",
		"CN=a\\, O=b\\;x,C=c",
		"O=BobsBank,INC..SP=NY",
		"O=a.,L=b.",
		"CN=a.+CN=A.O=x",
		"CN=#0c03616263,O=x",
		"CN=,O=,C=x",
		"CN=J\xc3\xbcrgen,O=\xe2\x82\xac\xf0\x9f\x98\x80",
	};
	struct accord_dn *dn;
	char buf[64];
	size_t i;
	int l;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++)
		round_trip(texts[i]);
	dn = parse("CN=a\\,b,O=x+UID=y,C=GB");
	/* the set in OID order: UID (0.9...) before O (2.5.4.10) */
	assert_format(dn, ACCORD_DN_STYLE_RFC4514, "CN=a\\,b,UID=y+O=x,C=GB");
	assert_format(dn, ACCORD_DN_STYLE_RACF, "CN=a,b.UID=y+O=x.C=GB");
	l = accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, buf, sizeof(buf));
	assert_int_equal(l, 22);
	assert_int_equal(accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, buf, 22),
			 -ENOSPC);
	assert_int_equal(accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, buf, 23), 22);
	assert_int_equal(accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, NULL, 0),
			 -ENOSPC);
	assert_int_equal(accord_dn_format(NULL, ACCORD_DN_STYLE_RFC4514, buf, 8),
			 -EINVAL);
	accord_dn_free(dn);
	/* RACF display escapes what would read as a separator */
	dn = parse("CN=a.O\\=b\\+x\\+UID\\=y\\\\,C=z\\,O\\=w");
	assert_format(dn, ACCORD_DN_STYLE_RACF,
		      "CN=a\\.O=b+x\\+UID=y\\\\.C=z\\,O=w");
	accord_dn_free(dn);
	dn = parse("CN=\"\\\"q\",O=a.");
	assert_format(dn, ACCORD_DN_STYLE_RACF, "CN=\\\"q.O=a.");
	accord_dn_free(dn);
}

static void test_starting_point(void **state)
{
	struct accord_dn *n = parse(
		"CN=Bob,OU=BobsAccountingDept,O=BobsMart,L=internet");
	static const struct {
		const char *start;
		int r;
		size_t count;
	} sp[] = {
		{ "OU=BobsAcc", 0, 3 },
		{ "ou=BOBSACC", 0, 3 },
		{ "OU=BobsAccountingDept", 0, 3 },
		{ "CN=B", 0, 4 },
		{ "L=inter", 0, 1 },
		{ "O=Bobs", 0, 2 },
		{ "OU=Nope", -ENOENT, 0 },
		{ "OU=BobsAccountingDepartment", -ENOENT, 0 },
		{ "C=internet", -ENOENT, 0 },
		{ "CN=Bob.O=BobsMart", -EINVAL, 0 },
		{ "CN=Bob+UID=x", -EINVAL, 0 },
	};
	struct accord_dn *s;
	size_t i, count;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sp); i++) {
		s = parse(sp[i].start);
		count = 99;
		if (accord_dn_starting_point(n, s, &count) != sp[i].r)
			fail_msg("start '%s'", sp[i].start);
		if (sp[i].r == 0)
			assert_int_equal(count, sp[i].count);
		accord_dn_free(s);
	}
	assert_key(n, 3, "OU=bobsaccountingdept,O=bobsmart,L=internet");
	assert_int_equal(accord_dn_starting_point(n, NULL, &count), -EINVAL);
	accord_dn_free(n);
}

/* ---- refusals ---- */

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		enum accord_dn_form form;
		unsigned flags;
		const char *msg;
	} bad[] = {
		{ "", ACCORD_DN_AUTO, 0, "the filter is empty" },
		{ "   ", ACCORD_DN_AUTO, 0, "the filter is empty" },
		{ "racf:", ACCORD_DN_AUTO, 0, "the filter is empty" },
		{ "XX=y", ACCORD_DN_AUTO, 0, "unknown keyword 'XX' at byte 1" },
		{ "CN=a.XX=y", ACCORD_DN_AUTO, 0, "unknown keyword 'XX' at byte 6" },
		{ "CN=a,XX=y", ACCORD_DN_AUTO, 0, "unknown keyword 'XX' at byte 6" },
		{ "/C=GB/XX=y", ACCORD_DN_AUTO, 0, "unknown keyword 'XX' at byte 7" },
		{ "CN=a+X-1=y", ACCORD_DN_AUTO, 0, "unknown keyword 'X-1' at byte 6" },
		{ "racf:CN=a.Foo=y", ACCORD_DN_AUTO, 0, "unknown keyword 'Foo' at byte 11" },
		{ "OID.3.1=x", ACCORD_DN_AUTO, 0, "invalid OID '3.1' at byte 5" },
		{ "OID.5=x", ACCORD_DN_AUTO, 0, "must begin with TYPE=" },
		{ "CN=\"a\\qb\"", ACCORD_DN_AUTO, 0, "invalid escape '\\q' at byte 6" },
		{ "racf:CN=a\\q.O=x", ACCORD_DN_AUTO, 0, "invalid escape '\\q' at byte 10" },
		{ "/C=GB/CN=\\x4", ACCORD_DN_AUTO, 0, "invalid escape '\\x' at byte 10" },
		{ "CN=\xe1\x80(", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "CN=" X64 X64
		  "+CN=" X64 X64,
		  ACCORD_DN_AUTO, 0, "RDN 1 holds CN=xxxxxxxx" },
		{ "CN=" X64 X64
		  "+CN=" X64 X64,
		  ACCORD_DN_AUTO, 0, "xxx... twice" },
		{ "1.02=x", ACCORD_DN_AUTO, 0, "invalid OID '1.02' at byte 1" },
		{ "10.1=x", ACCORD_DN_AUTO, 0, "invalid OID '10.1' at byte 1" },
		{ "CN=a.OID.0.0.01=x", ACCORD_DN_AUTO, 0, "invalid OID '0.0.01' at byte 10" },
		{ "1.2.3333333333333333333333333333333333333333333333333333333333333=x",
		  ACCORD_DN_AUTO, 0, "invalid OID" },
		{ "foo", ACCORD_DN_AUTO, 0,
		  "must begin with TYPE= such as CN= or O= (RACF IRRD140I), not 'foo' at byte 1" },
		{ "=x", ACCORD_DN_AUTO, 0, "not '=x' at byte 1" },
		{ "CN x", ACCORD_DN_AUTO, 0, "must begin with TYPE=" },
		{ "loanOf@BobsBank.com.CN=G.T.Miles", ACCORD_DN_AUTO, 0,
		  "needs E= (emailAddress) or MAIL= in front" },
		{ "CN=a,b,O=x", ACCORD_DN_AUTO, 0,
		  "',' at byte 5 is not followed by TYPE=; escape a ',' in a value as '\\,'" },
		{ "CN=a,loan@x.com,O=x", ACCORD_DN_AUTO, 0, "needs E= or MAIL=" },
		{ "CN=a,O=x,", ACCORD_DN_AUTO, 0, "',' at byte 9" },
		{ "CN=a;b,O=x", ACCORD_DN_AUTO, 0, "';' at byte 5" },
		{ "CN=a+b", ACCORD_DN_RFC4514, 0, "'+' at byte 5" },
		{ "CN=a\\q", ACCORD_DN_AUTO, 0, "invalid escape '\\q' at byte 5" },
		{ "CN=a\\\xc3\xa9", ACCORD_DN_AUTO, 0,
		  "invalid escape '\\\xc3\xa9' at byte 5" },
		{ "CN=a\\4g", ACCORD_DN_AUTO, 0, "invalid escape '\\4' at byte 5" },
		{ "CN=a\\", ACCORD_DN_AUTO, 0, "the '\\' at byte 5 ends the text" },
		{ "CN=a\\00", ACCORD_DN_AUTO, 0, "the escape at byte 5 gives a NUL" },
		{ "CN=\\C3,O=x", ACCORD_DN_AUTO, 0,
		  "the value of CN at byte 1 is not valid UTF-8 once its escapes are decoded" },
		{ "CN=x.O=\\C3\\28", ACCORD_DN_AUTO, 0, "the value of O at byte 6" },
		{ "CN=#0c0", ACCORD_DN_AUTO, 0,
		  "the value at byte 4: '#' must be followed by pairs of hex digits" },
		{ "CN=#,O=x", ACCORD_DN_AUTO, 0, "at byte 4: '#' must be" },
		{ "CN=#zz", ACCORD_DN_AUTO, 0, "'#' must be followed" },
		{ "CN=\"abc", ACCORD_DN_AUTO, 0,
		  "the quoted value at byte 4 has no closing '\"'" },
		{ "CN=\"abc\"x,O=y", ACCORD_DN_AUTO, 0,
		  "unexpected 'x' at byte 9 after the value that starts at byte 4" },
		{ "CN=#41x", ACCORD_DN_AUTO, 0, "unexpected 'x' at byte 7" },
		{ "CN=a+CN=a", ACCORD_DN_AUTO, 0, "RDN 1 holds CN=a twice" },
		{ "CN=x.O=a+O=a.C=y", ACCORD_DN_AUTO, 0, "RDN 2 holds O=a twice" },
		{ "CN=x,O=a\\,b+O=a\\2Cb", ACCORD_DN_AUTO, 0,
		  "RDN 2 holds O=a\\,b twice" },
		{ "CN=a\nb", ACCORD_DN_AUTO, 0, "control character 0x0a at byte 5 (write it as \\0A)" },
		{ "CN=a\x7f", ACCORD_DN_AUTO, 0, "control character 0x7f at byte 5" },
		{ "racf:CN=a\tb", ACCORD_DN_AUTO, 0, "control character 0x09 at byte 10" },
		{ "CN=\xff", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "CN=ab\xc3", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 6" },
		{ "CN=\xed\xa0\x80", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "CN=\xc0\xaf", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "CN=\xf4\x90\x80\x80", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "CN=\xe0\x80\xaf", ACCORD_DN_AUTO, 0, "invalid UTF-8 at byte 4" },
		{ "x500:/C=GB", ACCORD_DN_RFC4514, 0,
		  "the prefix 'x500:' contradicts the RFC 4514 form" },
		{ "rfc4514:C=GB", ACCORD_DN_X500, 0, "contradicts the slash form" },
		{ "C=GB", ACCORD_DN_AUTO, 0x10, "unknown DN parse flags 0x10" },
		{ "C=GB", (enum accord_dn_form)99, 0, "unknown DN form 99" },
		{ NULL, ACCORD_DN_AUTO, 0, "no distinguished name given" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		parse_fails(bad[i].text, bad[i].form, bad[i].flags, bad[i].msg);
	assert_int_equal(accord_dn_parse("C=GB", ACCORD_DN_AUTO, 0, NULL, NULL),
			 -EINVAL);
}

static void test_limits(void **state)
{
	char text[4096];
	struct accord_dn *dn;
	size_t i, n;

	(void)state;
	/* 32 RDNs, then 33 */
	for (n = 0, i = 0; i < ACCORD_DN_MAX_RDNS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sOU=u%zu",
				      i ? "." : "", i);
	dn = parse(text);
	assert_int_equal(dn->nrdn, ACCORD_DN_MAX_RDNS);
	accord_dn_free(dn);
	snprintf(text + n, sizeof(text) - n, ".C=GB");
	parse_fails(text, ACCORD_DN_AUTO, 0, "RDN 33: more than 32 RDNs");
	for (i = 0; text[i]; i++)
		if (text[i] == '.')
			text[i] = ',';
	parse_fails(text, ACCORD_DN_AUTO, 0, "RDN 33: more than 32 RDNs");
	/* 16 AVAs in one RDN, then 17 */
	for (n = 0, i = 0; i < ACCORD_DN_MAX_AVAS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sOU=u%zu",
				      i ? "+" : "", i);
	dn = parse(text);
	assert_int_equal(dn->rdn[0].nava, ACCORD_DN_MAX_AVAS);
	accord_dn_free(dn);
	snprintf(text + n, sizeof(text) - n, "+CN=x,C=GB");
	parse_fails(text, ACCORD_DN_AUTO, 0,
		    "RDN 1: more than 16 AVAs joined by '+' (at byte");
	/* 1024 bytes, then 1025 */
	memcpy(text, "CN=", 3);
	memset(text + 3, 'x', ACCORD_DN_MAX_TEXT - 3);
	text[ACCORD_DN_MAX_TEXT] = '\0';
	dn = parse(text);
	assert_int_equal(dn->rdn[0].ava[0].len, ACCORD_DN_MAX_TEXT - 3);
	accord_dn_free(dn);
	parse_fails(text, ACCORD_DN_AUTO, ACCORD_DN_RACF_STRICT,
		    "filter is 1024 bytes, longer than RACF's 255 (IRRD142I)");
	text[ACCORD_DN_MAX_TEXT] = 'x';
	text[ACCORD_DN_MAX_TEXT + 1] = '\0';
	parse_fails(text, ACCORD_DN_AUTO, 0, "filter is 1025 bytes, longer than 1024");
	/* the prefix does not count */
	memcpy(text, "racf:CN=", 8);
	memset(text + 8, 'x', ACCORD_DN_MAX_TEXT - 3);
	text[ACCORD_DN_MAX_TEXT + 5] = '\0';
	dn = parse(text);
	accord_dn_free(dn);
	/* RACF's 255 */
	memcpy(text, "CN=", 3);
	memset(text + 3, 'y', ACCORD_DN_RACF_MAX - 3);
	text[ACCORD_DN_RACF_MAX] = '\0';
	dn = parse_form(text, ACCORD_DN_AUTO, ACCORD_DN_RACF_STRICT);
	accord_dn_free(dn);
	text[ACCORD_DN_RACF_MAX] = 'y';
	text[ACCORD_DN_RACF_MAX + 1] = '\0';
	parse_fails(text, ACCORD_DN_AUTO, ACCORD_DN_RACF_STRICT,
		    "filter is 256 bytes, longer than RACF's 255");
	dn = parse(text);
	accord_dn_free(dn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_racf_basic),
		cmocka_unit_test(test_racf_checkcert_display),
		cmocka_unit_test(test_racf_verisign),
		cmocka_unit_test(test_racf_dots_in_values),
		cmocka_unit_test(test_no_wildcards),
		cmocka_unit_test(test_rfc4514_escapes),
		cmocka_unit_test(test_rfc4514_hex),
		cmocka_unit_test(test_multivalued),
		cmocka_unit_test(test_multivalued_set_order),
		cmocka_unit_test(test_slash_form),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_email_vs_mail),
		cmocka_unit_test(test_der_string_types),
		cmocka_unit_test(test_der_special),
		cmocka_unit_test(test_der_refused),
		cmocka_unit_test(test_suffix_match),
		cmocka_unit_test(test_case_and_space),
		cmocka_unit_test(test_keys_across_forms),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_starting_point),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
