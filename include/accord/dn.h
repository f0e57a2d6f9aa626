/* SPDX-License-Identifier: MIT */
/*
 * Distinguished names: one parser for the three ways people write them,
 * one structural model, and the canonical keys certificate mapping hashes.
 *
 *   RACF dotted form    CN=adcdd.O=cpwebuser.C=GB       most specific first
 *   RFC 4514            CN=adcdd,O=cpwebuser,C=GB        most specific first
 *   legacy slash form   /C=GB/O=cpwebuser/CN=adcdd       X.500 order, reversed
 *
 * ../shared/spec/certmap.md §A.2 and §A.3 are the rules this follows.  A
 * parsed name is a list of RDNs, most specific first (rdn[0] is the CN end,
 * rdn[n-1] the C end); each RDN is a set of attribute/value pairs (AVAs).
 * Values are UTF-8.  Comparison is structural, never by string or regex.
 */
#ifndef ACCORD_DN_H
#define ACCORD_DN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>

#define ACCORD_DN_MAX_RDNS 32      /* RDNs in one name */
#define ACCORD_DN_MAX_AVAS 16      /* AVAs in one multi-valued RDN */
#define ACCORD_DN_MAX_TEXT 1024    /* bytes of a filter or name as text */
#define ACCORD_DN_RACF_MAX 255     /* RACF's filter limit (IRRD142I) */
#define ACCORD_DN_OID_MAX 64       /* dotted OID text, NUL included */

/* Input forms for accord_dn_parse(). */
enum accord_dn_form {
	ACCORD_DN_AUTO = 0, /* an explicit "racf:", "rfc4514:" or "x500:" prefix,
			       else a leading '/' means slash form, an unescaped
			       ',' or '+' before KEYWORD= means RFC 4514, a
			       separator '.' means RACF (§A.2.4) */
	ACCORD_DN_RACF,
	ACCORD_DN_RFC4514,
	ACCORD_DN_X500,     /* slash form, X.500 order */
};

/* Parse flags. */
#define ACCORD_DN_RACF_STRICT 0x1u /* RACF's 255-character limit */

/* Warnings a parse can raise (struct accord_dn.warnings). */
#define ACCORD_DN_W_TRAILING_DOT 0x1u /* a single '.' separator followed a
					 value: a certificate value with a
					 trailing '.' also matches (§A.2.1) */
#define ACCORD_DN_W_MAIL         0x2u /* MAIL= is LDAP mail
					 (0.9.2342.19200300.100.1.3); IBM
					 sometimes means E= (emailAddress) */

/* AVA flags. */
#define ACCORD_AVA_DOT_COMPAT 0x1u /* value also matches value + "." */
#define ACCORD_AVA_HEX        0x2u /* given as #hex BER: compared byte-wise
					on value (the raw BER bytes) */

struct accord_ava {
	char oid[ACCORD_DN_OID_MAX]; /* numeric OID, "2.5.4.3" */
	const char *keyword;         /* canonical keyword ("CN", "E", "ST"),
					NULL for an OID without one */
	char *value;                 /* UTF-8 (or raw BER for HEX), NUL-terminated */
	size_t len;                  /* bytes in value, NUL excluded */
	unsigned flags;              /* ACCORD_AVA_* */
};

struct accord_rdn {
	struct accord_ava *ava;      /* sorted by oid, then value (a set) */
	size_t nava;
};

struct accord_dn {
	struct accord_rdn *rdn;      /* most specific first */
	size_t nrdn;                 /* 0 for an empty name (certificates only) */
	unsigned warnings;           /* ACCORD_DN_W_* */
};

/*
 * Parses text in the given form.  Errors name the offending part and its
 * byte offset ("unknown keyword 'XX' at byte 12", "RDN 33: more than 32
 * RDNs", "filter is 300 bytes, longer than RACF's 255").  An empty filter
 * is an error.  Returns 0 or -EINVAL (-ENOMEM), *out malloc'd.
 */
int accord_dn_parse(const char *text, enum accord_dn_form form, unsigned flags,
		    struct accord_dn **out, struct accord_err *err);

/*
 * A name from a certificate: the DER of an X.509 Name (the SEQUENCE, tag
 * 0x30), as i2d_X509_NAME() gives it or as found inside a certificate.
 * Every DirectoryString type (Printable, Teletex as Latin-1, BMP,
 * Universal, UTF8, IA5, Visible, Numeric) is converted to UTF-8; a value
 * that does not convert is an error.  Same limits as the parser.
 */
int accord_dn_from_der(const unsigned char *der, size_t len,
		       struct accord_dn **out, struct accord_err *err);

void accord_dn_free(struct accord_dn *dn);

/* Value comparison modes (accord.conf `match`). */
enum accord_dn_match {
	ACCORD_MATCH_LDAP = 0, /* ASCII case folded, leading/trailing space
				  removed, inner runs of spaces as one (RFC 4518
				  insignificant space); non-ASCII compared as
				  bytes after UTF-8 conversion */
	ACCORD_MATCH_EXACT,    /* byte-exact after UTF-8 conversion (RACF) */
};

/*
 * The canonical key of the `count` least specific RDNs of dn (that is,
 * rdn[nrdn-count .. nrdn-1]), as an RFC 4514 string of normalized values:
 * keyword or numeric OID, values folded as in ACCORD_MATCH_LDAP with one
 * trailing '.' removed from every value, AVAs in set order, special
 * characters escaped.  Two names whose RDN suffixes match in either mode
 * have the same key (a superset: confirm with accord_dn_suffix_match()).
 * count == 0 gives "".  Returns the length written (without the NUL), or
 * -ENOSPC when cap is too small, -EINVAL when count > nrdn.
 */
int accord_dn_key(const struct accord_dn *dn, size_t count, char *buf,
		  size_t cap);

/*
 * True when filter (k RDNs) equals the k least specific RDNs of name
 * (k <= name->nrdn), RDN by RDN: the same AVA set, values equal in the
 * given mode, a filter value with ACCORD_AVA_DOT_COMPAT also matching the
 * name's value + ".".  An empty filter never matches.
 */
bool accord_dn_suffix_match(const struct accord_dn *filter,
			    const struct accord_dn *name,
			    enum accord_dn_match mode);

/* Display styles for accord_dn_format(). */
enum accord_dn_style {
	ACCORD_DN_STYLE_RFC4514, /* CN=a\,b,O=x+UID=y,C=GB (values as given) */
	ACCORD_DN_STYLE_RACF,    /* CN=a,b.O=x.C=GB (RACF dotted; a value ending
				    in '.' shows as "..") */
};

/* Formats the name (values as stored, not folded) into buf.  Returns the
 * length or -ENOSPC. */
int accord_dn_format(const struct accord_dn *dn, enum accord_dn_style style,
		     char *buf, size_t cap);

/*
 * For `certmap add --from-cert`: the RACF starting point.  start is one
 * RDN (TYPE=value-prefix); returns the number of least specific RDNs of
 * name from the first (most specific first) RDN whose type matches and
 * whose value begins with the given value (ACCORD_MATCH_LDAP), to the end.
 * -ENOENT when there is none (RACF IRRD141I).
 */
int accord_dn_starting_point(const struct accord_dn *name,
			     const struct accord_dn *start, size_t *count);

#endif
