/* SPDX-License-Identifier: MIT */
/*
 * Distinguished names (include/accord/dn.h): one parser for the RACF
 * dotted, RFC 4514 and slash forms, the reader of DER names, structural
 * matching, canonical keys and display.
 *
 * Choices the spec (../shared/spec/certmap.md §A.2, §A.3) leaves open:
 *
 * - Text may not hold raw control bytes (below 0x20, and 0x7f) and must be
 *   UTF-8.  An escape \XX may give any byte but NUL; a value must still be
 *   UTF-8 once its escapes are decoded.  Values from a certificate may hold
 *   control characters (never NUL); display and keys write them as \XX.
 * - All three forms share one escape set: '\' followed by one of
 *   , + " \ < > ; = # . / or a space, or by two hex digits; the slash form
 *   also takes OpenSSL's \xHH.  Any other backslash is an error.
 * - A '.' (RACF) or '/' (slash form) or '+' separates only when TYPE=
 *   follows at once, TYPE judged by its syntax: a mistyped keyword after a
 *   '.' is an error, not silently part of the value before it.
 * - A single-dot separator sets DOT_COMPAT only when the value does not
 *   already end in '.' ("INC..SP=" or "a\..O="): the key drops one
 *   trailing dot, and there the dot was written on purpose.
 * - DOT_COMPAT in LDAP mode accepts N(value) + "." and N(value + ".")
 *   (N: the LDAP folding), so it is never stricter than in EXACT mode.
 * - The key drops one trailing '.' and then the spaces that dot leaves at
 *   the end ("a ." keys as "a"), so that a DOT_COMPAT match in either mode
 *   never changes the key.
 * - RFC 4514 leniencies beyond §A.2.2: ';' separates RDNs, unescaped
 *   trailing spaces are dropped, and '<' '>' '"' '#' after the first byte
 *   need no escape; an unescaped ',' ';' or '+' that TYPE= does not follow
 *   is an error.  The RACF and slash forms have no quoting and no #hex.
 * - A DER value that is a SEQUENCE (not a string) is kept as its BER with
 *   ACCORD_AVA_HEX; any other non-string type is an error.  A DER name
 *   counts against ACCORD_DN_MAX_TEXT as TYPE=value text, unescaped.
 * - Detection without a prefix: an unescaped ',' or ';' before TYPE=
 *   means RFC 4514, else a separator '.' means RACF; with neither the text
 *   is one RDN, read as RACF when it holds a ',' (literal there) and as
 *   RFC 4514 otherwise.  A '+' before TYPE= decides nothing by itself, so
 *   the RACF display of a multi-valued RDN (CN=a+UID=b.O=x) reads back.
 * - Byte positions in messages count from 1 over the whole text, any
 *   "racf:" style prefix included.
 */
#include <accord/dn.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define OID_MAIL "0.9.2342.19200300.100.1.3"
/* DER larger than this cannot give a name within ACCORD_DN_MAX_TEXT
 * (UniversalString is four bytes a character, plus the tags). */
#define DN_DER_MAX (16u * ACCORD_DN_MAX_TEXT)
/* Longest excerpt of the input quoted in a message. */
#define DN_EXCERPT 32

struct dn_attr {
	const char *name;  /* as written, any case */
	const char *oid;
	const char *canon; /* canonical keyword */
};

/* §A.2.5.  The first entry of each OID gives its canonical keyword. */
static const struct dn_attr dn_attrs[] = {
	{ "CN", "2.5.4.3", "CN" },
	{ "OU", "2.5.4.11", "OU" },
	{ "O", "2.5.4.10", "O" },
	{ "L", "2.5.4.7", "L" },
	{ "ST", "2.5.4.8", "ST" },
	{ "SP", "2.5.4.8", "ST" },
	{ "S", "2.5.4.8", "ST" },
	{ "C", "2.5.4.6", "C" },
	{ "STREET", "2.5.4.9", "STREET" },
	{ "DC", "0.9.2342.19200300.100.1.25", "DC" },
	{ "UID", "0.9.2342.19200300.100.1.1", "UID" },
	{ "USERID", "0.9.2342.19200300.100.1.1", "UID" },
	{ "T", "2.5.4.12", "T" },
	{ "TITLE", "2.5.4.12", "T" },
	{ "E", "1.2.840.113549.1.9.1", "E" },
	{ "EMAIL", "1.2.840.113549.1.9.1", "E" },
	{ "EMAILADDRESS", "1.2.840.113549.1.9.1", "E" },
	{ "MAIL", OID_MAIL, "MAIL" },
	{ "SERIALNUMBER", "2.5.4.5", "SERIALNUMBER" },
	{ "DNQ", "2.5.4.46", "DNQ" },
	{ "DNQUALIFIER", "2.5.4.46", "DNQ" },
	{ "SN", "2.5.4.4", "SN" },
	{ "SURNAME", "2.5.4.4", "SN" },
	{ "G", "2.5.4.42", "G" },
	{ "GN", "2.5.4.42", "G" },
	{ "GIVENNAME", "2.5.4.42", "G" },
	{ "I", "2.5.4.43", "I" },
	{ "INITIALS", "2.5.4.43", "I" },
	{ "GENERATIONQUALIFIER", "2.5.4.44", "GENERATIONQUALIFIER" },
	{ "PC", "2.5.4.17", "PC" },
	{ "POSTALCODE", "2.5.4.17", "PC" },
	{ "NAME", "2.5.4.41", "NAME" },
	{ "PSEUDONYM", "2.5.4.65", "PSEUDONYM" },
	{ "ORGANIZATIONIDENTIFIER", "2.5.4.97", "ORGANIZATIONIDENTIFIER" },
	{ "UNSTRUCTUREDNAME", "1.2.840.113549.1.9.2", "UNSTRUCTUREDNAME" },
	{ "UNSTRUCTUREDADDRESS", "1.2.840.113549.1.9.8", "UNSTRUCTUREDADDRESS" },
};

static const char *canon_by_oid(const char *oid)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dn_attrs); i++)
		if (strcmp(dn_attrs[i].oid, oid) == 0)
			return dn_attrs[i].canon;
	return NULL;
}

/* ---- characters ---- */

static bool is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_xdigit(int c)
{
	return hex_val(c) >= 0;
}

/* The byte of two hex digits (both checked with is_xdigit). */
static unsigned char hex_pair(int hi, int lo)
{
	return (unsigned char)((unsigned)hex_val(hi) << 4 | (unsigned)hex_val(lo));
}

static int fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Offset of the first byte that does not belong to valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF), or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0, need, k;
	unsigned c, lo, hi;

	while (i < len) {
		c = s[i];
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return i;
		}
		if (len - i <= need || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += need + 1;
	}
	return len;
}

/* Bytes of the UTF-8 sequence led by c (1 for anything odd). */
static int u8_len(int c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	return 1;
}

/* ---- output into a caller's buffer ---- */

struct dn_out {
	char *buf;
	size_t cap, len;
	bool over; /* something did not fit; nothing more is written */
};

static void out_put(struct dn_out *o, const char *s, size_t n)
{
	/* room is kept for the NUL */
	if (o->over || n >= o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_ch(struct dn_out *o, char c)
{
	out_put(o, &c, 1);
}

static void out_str(struct dn_out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void out_hexbyte(struct dn_out *o, unsigned c, const char *digits)
{
	char h[2] = { digits[c >> 4], digits[c & 15] };

	out_put(o, h, 2);
}

static int out_end(struct dn_out *o)
{
	if (o->over || o->cap == 0)
		return -ENOSPC;
	o->buf[o->len] = '\0';
	if (o->len > INT_MAX)
		return -EOVERFLOW;
	return (int)o->len;
}

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* One byte of an RFC 4514 value; first and last are its position. */
static void out_rfc_char(struct dn_out *o, unsigned c, bool first, bool last)
{
	if (c < 0x20 || c == 0x7f) {
		out_ch(o, '\\');
		out_hexbyte(o, c, HEX_UPPER);
		return;
	}
	if (strchr(",+\"\\<>;=", (int)c) || (first && (c == '#' || c == ' ')) ||
	    (last && c == ' '))
		out_ch(o, '\\');
	out_ch(o, (char)c);
}

static void out_hex_value(struct dn_out *o, const struct accord_ava *a)
{
	size_t i;

	out_ch(o, '#');
	for (i = 0; i < a->len; i++)
		out_hexbyte(o, (unsigned char)a->value[i], HEX_LOWER);
}

static void out_type(struct dn_out *o, const struct accord_ava *a, bool racf)
{
	if (a->keyword) {
		out_str(o, a->keyword);
	} else {
		/* "OID." keeps a numeric type from reading as the end of a
		 * value with dots and digits before it (RACF form) */
		if (racf)
			out_str(o, "OID.");
		out_str(o, a->oid);
	}
	out_ch(o, '=');
}

static void out_value_rfc(struct dn_out *o, const struct accord_ava *a)
{
	size_t i;

	if (a->flags & ACCORD_AVA_HEX) {
		out_hex_value(o, a);
		return;
	}
	for (i = 0; i < a->len; i++)
		out_rfc_char(o, (unsigned char)a->value[i], i == 0,
			     i + 1 == a->len);
}

/* ---- syntax of types ---- */

/* Length of a numeric OID (two arcs or more) at s[i..], or 0. */
static size_t oid_len(const char *s, size_t n, size_t i)
{
	size_t j = i, k, arcs = 0;

	for (;;) {
		/* s[j] is a digit: the caller's or the loop's check */
		for (k = j; k < n && is_digit(s[k]); k++)
			;
		arcs++;
		j = k;
		if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
			j++;
			continue;
		}
		break;
	}
	return arcs >= 2 ? j - i : 0;
}

/*
 * Length of "TYPE=" at s[i..] (with spaces before '=' when spaces is
 * set), or 0 when there is none.  TYPE is a keyword (a letter, then
 * letters, digits or '-'), a numeric OID or "OID." and a numeric OID;
 * whether the keyword exists is decided later.  *tlen gets TYPE's length.
 */
static size_t type_len(const char *s, size_t n, size_t i, bool spaces,
		       size_t *tlen)
{
	size_t j, t;

	if (i >= n)
		return 0;
	if (n - i > 4 && strncasecmp(s + i, "OID.", 4) == 0 &&
	    is_digit(s[i + 4])) {
		t = oid_len(s, n, i + 4);
		if (!t)
			return 0;
		j = i + 4 + t;
	} else if (is_digit(s[i])) {
		t = oid_len(s, n, i);
		if (!t)
			return 0;
		j = i + t;
	} else if (is_alpha(s[i])) {
		for (j = i + 1;
		     j < n && (is_alpha(s[j]) || is_digit(s[j]) || s[j] == '-');
		     j++)
			;
	} else {
		return 0;
	}
	if (tlen)
		*tlen = j - i;
	if (spaces)
		while (j < n && s[j] == ' ')
			j++;
	if (j >= n || s[j] != '=')
		return 0;
	return j + 1 - i;
}

/* ---- AVAs and RDNs ---- */

/* The set order: OID, then #hex after strings, then the bytes. */
static int ava_cmp(const struct accord_ava *a, const struct accord_ava *b)
{
	int c = strcmp(a->oid, b->oid);
	size_t m;

	if (c)
		return c;
	if ((a->flags ^ b->flags) & ACCORD_AVA_HEX)
		return (a->flags & ACCORD_AVA_HEX) ? 1 : -1;
	m = a->len < b->len ? a->len : b->len;
	c = memcmp(a->value, b->value, m);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* "CN=value" for a message, cut to fit. */
static const char *ava_text(const struct accord_ava *a, char *buf, size_t cap)
{
	struct dn_out o = { buf, cap - 4, 0, false };

	out_type(&o, a, false);
	out_value_rfc(&o, a);
	buf[o.len] = '\0';
	if (o.over)
		strcpy(buf + o.len, "...");
	return buf;
}

/* Sorts the AVAs of an RDN into set order; the same AVA twice is an
 * error.  num counts RDNs from 1 in the order the text gives them. */
static int rdn_finish(struct accord_rdn *r, size_t num, struct accord_err *err)
{
	struct accord_ava tmp;
	char what[96];
	size_t i, j;

	for (i = 1; i < r->nava; i++) {
		tmp = r->ava[i];
		for (j = i; j > 0 && ava_cmp(&r->ava[j - 1], &tmp) > 0; j--)
			r->ava[j] = r->ava[j - 1];
		r->ava[j] = tmp;
	}
	for (i = 1; i < r->nava; i++)
		if (ava_cmp(&r->ava[i - 1], &r->ava[i]) == 0)
			return accord_err_set(err, -EINVAL,
					      "RDN %zu holds %s twice", num,
					      ava_text(&r->ava[i], what,
						       sizeof(what)));
	return 0;
}

void accord_dn_free(struct accord_dn *dn)
{
	size_t i, k;

	if (!dn)
		return;
	for (i = 0; dn->rdn && i < dn->nrdn; i++) {
		for (k = 0; dn->rdn[i].ava && k < dn->rdn[i].nava; k++)
			free(dn->rdn[i].ava[k].value);
		free(dn->rdn[i].ava);
	}
	free(dn->rdn);
	free(dn);
}

/* ---- normalized values (ACCORD_MATCH_LDAP) ---- */

/* Walks a value as ACCORD_MATCH_LDAP sees it: spaces trimmed at both
 * ends, inner runs as one, ASCII folded.  For keys, one trailing '.' and
 * the spaces before it go too. */
struct dn_norm {
	const unsigned char *p, *end;
};

static void norm_init(struct dn_norm *it, const char *v, size_t len, bool key)
{
	const unsigned char *s = (const unsigned char *)v, *e = s + len;

	while (s < e && *s == ' ')
		s++;
	while (e > s && e[-1] == ' ')
		e--;
	if (key && e > s && e[-1] == '.') {
		e--;
		while (e > s && e[-1] == ' ')
			e--;
	}
	it->p = s;
	it->end = e;
}

static int norm_next(struct dn_norm *it)
{
	int c;

	if (it->p == it->end)
		return -1;
	c = *it->p++;
	if (c == ' ') {
		while (it->p < it->end && *it->p == ' ')
			it->p++;
		return ' ';
	}
	return fold(c);
}

static int norm_cmp(const struct accord_ava *a, const struct accord_ava *b,
		    bool key)
{
	struct dn_norm x, y;
	int c, d;

	norm_init(&x, a->value, a->len, key);
	norm_init(&y, b->value, b->len, key);
	do {
		c = norm_next(&x);
		d = norm_next(&y);
	} while (c == d && c >= 0);
	return c < d ? -1 : c > d;
}

/* Does the normalized value end in '.'? */
static bool norm_ends_dot(const char *v, size_t len)
{
	struct dn_norm it;

	norm_init(&it, v, len, false);
	return it.end > it.p && it.end[-1] == '.';
}

/* The LDAP side of DOT_COMPAT: N(name) is N(filter) + "." or, as the
 * exact side has it, N(filter + ".") (a space before the dot when the
 * filter value ends in spaces). */
static bool norm_eq_dot(const struct accord_ava *f, const struct accord_ava *n)
{
	struct dn_norm a, b;
	bool nonempty, spaced;
	int c;

	norm_init(&a, f->value, f->len, false);
	nonempty = a.p < a.end;
	spaced = f->len > 0 && f->value[f->len - 1] == ' ';
	norm_init(&b, n->value, n->len, false);
	while ((c = norm_next(&a)) >= 0)
		if (norm_next(&b) != c)
			return false;
	c = norm_next(&b);
	if (c == ' ' && nonempty && spaced)
		c = norm_next(&b);
	return c == '.' && norm_next(&b) < 0;
}

/* ---- the text parser ---- */

enum dn_sep {
	SEP_END,
	SEP_AVA, /* '+' */
	SEP_RDN, /* ',' ';' '.' '/' */
};

struct dn_parser {
	const char *s;       /* the text after any prefix */
	size_t n;
	size_t base;         /* bytes of the prefix */
	enum accord_dn_form form;
	struct accord_dn *dn;
	size_t ava_cap;      /* of the RDN being filled */
	unsigned char *buf;  /* a decoded value, n + 1 bytes */
	struct accord_err *err;
};

/* 1-based position in the whole text of offset i of p->s. */
static size_t pos(const struct dn_parser *p, size_t i)
{
	return p->base + i + 1;
}

/* Bytes of s[i..] to quote in a message: up to DN_EXCERPT, whole UTF-8
 * characters only. */
static int excerpt(const struct dn_parser *p, size_t i)
{
	size_t e = i;

	while (e < p->n) {
		size_t l = (size_t)u8_len((unsigned char)p->s[e]);

		if (e + l - i > DN_EXCERPT || e + l > p->n)
			break;
		e += l;
	}
	return (int)(e - i);
}

struct dn_type {
	char oid[ACCORD_DN_OID_MAX];
	const char *keyword;
	bool mail; /* written as MAIL */
};

static int resolve_type(struct dn_parser *p, size_t i, size_t tlen,
			struct dn_type *t)
{
	const char *s = p->s + i, *o = NULL;
	size_t olen = 0, k, arc;

	memset(t, 0, sizeof(*t));
	if (tlen > 4 && strncasecmp(s, "OID.", 4) == 0 && is_digit(s[4])) {
		o = s + 4;
		olen = tlen - 4;
	} else if (is_digit(s[0])) {
		o = s;
		olen = tlen;
	} else {
		for (k = 0; k < ARRAY_SIZE(dn_attrs); k++)
			if (strlen(dn_attrs[k].name) == tlen &&
			    strncasecmp(dn_attrs[k].name, s, tlen) == 0)
				break;
		if (k == ARRAY_SIZE(dn_attrs))
			return accord_err_set(
				p->err, -EINVAL,
				"unknown keyword '%.*s' at byte %zu (known: CN, OU, O, L, ST, C, STREET, DC, UID, T, E, MAIL, SERIALNUMBER, DNQ, SN, G, I, PC, NAME, ..., or OID.n.n)",
				tlen > DN_EXCERPT ? DN_EXCERPT : (int)tlen, s,
				pos(p, i));
		strcpy(t->oid, dn_attrs[k].oid);
		t->keyword = dn_attrs[k].canon;
		t->mail = strcmp(dn_attrs[k].oid, OID_MAIL) == 0;
		return 0;
	}
	/* arcs without leading zeros; the first one 0, 1 or 2 */
	if (olen >= ACCORD_DN_OID_MAX || o[0] > '2' || o[1] != '.')
		goto bad;
	for (k = 0; k < olen; k = arc + 1) {
		for (arc = k; arc < olen && o[arc] != '.'; arc++)
			;
		if (o[k] == '0' && arc - k > 1)
			goto bad;
	}
	memcpy(t->oid, o, olen);
	t->oid[olen] = '\0';
	t->keyword = canon_by_oid(t->oid);
	return 0;
bad:
	return accord_err_set(p->err, -EINVAL,
			      "invalid OID '%.*s' at byte %zu (arcs without leading zeros, the first one 0, 1 or 2, at most %d characters)",
			      olen > DN_EXCERPT ? DN_EXCERPT : (int)olen, o,
			      pos(p, (size_t)(o - p->s)), ACCORD_DN_OID_MAX - 1);
}

/* A backslash escape at s[*ip]. */
static int parse_escape(struct dn_parser *p, size_t *ip, unsigned char *out)
{
	const char *s = p->s;
	size_t i = *ip;
	int c;

	if (i + 1 >= p->n)
		return accord_err_set(p->err, -EINVAL,
				      "the '\\' at byte %zu ends the text; write '\\\\' for a backslash",
				      pos(p, i));
	c = (unsigned char)s[i + 1];
	if (is_xdigit(c) && i + 2 < p->n && is_xdigit(s[i + 2])) {
		*out = hex_pair(c, s[i + 2]);
		*ip = i + 3;
	} else if (p->form == ACCORD_DN_X500 && c == 'x' && i + 3 < p->n &&
		   is_xdigit(s[i + 2]) && is_xdigit(s[i + 3])) {
		/* OpenSSL's one-line form: \xC3\xBC */
		*out = hex_pair(s[i + 2], s[i + 3]);
		*ip = i + 4;
	} else if (c && strchr(",+\"\\<>;=#./ ", c)) {
		*out = (unsigned char)c;
		*ip = i + 2;
	} else {
		return accord_err_set(p->err, -EINVAL,
				      "invalid escape '\\%.*s' at byte %zu (escape one of , + \" \\ < > ; = # . / and space, or give a byte as \\XX)",
				      u8_len(c), s + i + 1, pos(p, i));
	}
	if (*out == 0)
		return accord_err_set(p->err, -EINVAL,
				      "the escape at byte %zu gives a NUL byte, which a value may not hold",
				      pos(p, i));
	return 0;
}

struct dn_val {
	size_t len;
	unsigned flags;
	enum dn_sep sep;
	size_t next;      /* where the next TYPE= starts */
	size_t tl, tlen;  /* its type_len() */
};

/* ',' ';' or '+' at s[i] that is not followed by TYPE=. */
static int bad_separator(struct dn_parser *p, size_t i)
{
	char c = p->s[i];

	return accord_err_set(p->err, -EINVAL,
			      "'%c' at byte %zu is not followed by TYPE=; escape a '%c' in a value as '\\%c' (a component without TYPE=, such as a bare e-mail address, needs E= or MAIL=)",
			      c, pos(p, i), c, c);
}

/* RFC 4514 value from s[i] (just after '='). */
static int value_rfc(struct dn_parser *p, size_t i, struct dn_val *v)
{
	const char *s = p->s;
	size_t n = p->n, len = 0, keep = 0, start, j;
	unsigned char b = 0;
	int r;

	while (i < n && s[i] == ' ')
		i++;
	start = i;
	if (i < n && s[i] == '#') {
		for (j = i + 1; j < n && is_xdigit(s[j]); j++)
			;
		if (j == i + 1 || (j - i - 1) % 2)
			return accord_err_set(p->err, -EINVAL,
					      "the value at byte %zu: '#' must be followed by pairs of hex digits (BER); write '\\#' for a value that starts with '#'",
					      pos(p, i));
		for (i++; i < j; i += 2)
			p->buf[len++] = hex_pair(s[i], s[i + 1]);
		v->flags |= ACCORD_AVA_HEX;
		keep = len;
		while (i < n && s[i] == ' ')
			i++;
	} else if (i < n && s[i] == '"') {
		/* RFC 1779 quoting: separators are literal inside */
		i++;
		while (i < n && s[i] != '"') {
			if (s[i] == '\\') {
				r = parse_escape(p, &i, &b);
				if (r)
					return r;
				p->buf[len++] = b;
			} else {
				p->buf[len++] = (unsigned char)s[i++];
			}
		}
		if (i >= n)
			return accord_err_set(p->err, -EINVAL,
					      "the quoted value at byte %zu has no closing '\"'",
					      pos(p, start));
		keep = len;
		for (i++; i < n && s[i] == ' '; i++)
			;
	} else {
		while (i < n && s[i] != ',' && s[i] != ';' && s[i] != '+') {
			if (s[i] == '\\') {
				r = parse_escape(p, &i, &b);
				if (r)
					return r;
				p->buf[len++] = b;
				keep = len;
			} else {
				/* unescaped trailing spaces do not count */
				p->buf[len++] = (unsigned char)s[i];
				if (s[i++] != ' ')
					keep = len;
			}
		}
	}
	v->len = keep;
	if (i >= n) {
		v->sep = SEP_END;
		v->next = n;
		return 0;
	}
	if (s[i] != ',' && s[i] != ';' && s[i] != '+')
		return accord_err_set(p->err, -EINVAL,
				      "unexpected '%.*s' at byte %zu after the value that starts at byte %zu (a quoted or #hex value ends there)",
				      u8_len((unsigned char)s[i]), s + i, pos(p, i),
				      pos(p, start));
	for (j = i + 1; j < n && s[j] == ' '; j++)
		;
	v->tl = type_len(s, n, j, true, &v->tlen);
	if (!v->tl)
		return bad_separator(p, i);
	v->sep = s[i] == '+' ? SEP_AVA : SEP_RDN;
	v->next = j;
	return 0;
}

/* RACF dotted (rdnsep '.') or slash form (rdnsep '/') value from s[i]:
 * literal up to a separator that TYPE= follows at once. */
static int value_literal(struct dn_parser *p, size_t i, char rdnsep,
			 struct dn_val *v)
{
	const char *s = p->s;
	size_t n = p->n, len = 0;
	unsigned char b = 0;
	int r;

	v->sep = SEP_END;
	v->next = n;
	while (i < n) {
		if (s[i] == '\\') {
			r = parse_escape(p, &i, &b);
			if (r)
				return r;
			p->buf[len++] = b;
			continue;
		}
		if ((s[i] == rdnsep || s[i] == '+') &&
		    (v->tl = type_len(s, n, i + 1, false, &v->tlen))) {
			v->sep = s[i] == '+' ? SEP_AVA : SEP_RDN;
			v->next = i + 1;
			break;
		}
		p->buf[len++] = (unsigned char)s[i++];
	}
	v->len = len;
	return 0;
}

/* Starts the next RDN, finishing the one before. */
static int rdn_open(struct dn_parser *p)
{
	struct accord_dn *dn = p->dn;
	int r;

	if (dn->nrdn > 0) {
		r = rdn_finish(&dn->rdn[dn->nrdn - 1], dn->nrdn, p->err);
		if (r)
			return r;
	}
	if (dn->nrdn == ACCORD_DN_MAX_RDNS)
		return accord_err_set(p->err, -EINVAL, "RDN %d: more than %d RDNs",
				      ACCORD_DN_MAX_RDNS + 1, ACCORD_DN_MAX_RDNS);
	dn->nrdn++;
	p->ava_cap = 0;
	return 0;
}

static int add_ava(struct dn_parser *p, const struct dn_type *t, size_t tpos,
		   const struct dn_val *v)
{
	struct accord_rdn *r = &p->dn->rdn[p->dn->nrdn - 1];
	struct accord_ava *a;
	size_t cap;

	if (r->nava == ACCORD_DN_MAX_AVAS)
		return accord_err_set(p->err, -EINVAL,
				      "RDN %zu: more than %d AVAs joined by '+' (at byte %zu)",
				      p->dn->nrdn, ACCORD_DN_MAX_AVAS, pos(p, tpos));
	if (r->nava == p->ava_cap) {
		cap = p->ava_cap ? p->ava_cap * 2 : 1;
		a = realloc(r->ava, cap * sizeof(*a));
		if (!a)
			return accord_err_set(p->err, -ENOMEM, "out of memory");
		r->ava = a;
		p->ava_cap = cap;
	}
	a = &r->ava[r->nava];
	memset(a, 0, sizeof(*a));
	a->value = malloc(v->len + 1);
	if (!a->value)
		return accord_err_set(p->err, -ENOMEM, "out of memory");
	memcpy(a->value, p->buf, v->len);
	a->value[v->len] = '\0';
	a->len = v->len;
	a->flags = v->flags;
	strcpy(a->oid, t->oid);
	a->keyword = t->keyword;
	r->nava++;
	return 0;
}

/* What to say when the text does not begin with TYPE= (RACF IRRD140I). */
static int bad_start(struct dn_parser *p, size_t i)
{
	return accord_err_set(p->err, -EINVAL,
			      "the filter must begin with TYPE= such as CN= or O= (RACF IRRD140I), not '%.*s' at byte %zu; a component without TYPE=, such as a bare e-mail address, needs E= (emailAddress) or MAIL= in front",
			      excerpt(p, i), p->s + i, pos(p, i));
}

static int parse_name(struct dn_parser *p)
{
	const char *s = p->s;
	size_t i = 0, tl, tlen, tpos;
	bool rfc = p->form == ACCORD_DN_RFC4514;
	struct dn_type t;
	struct dn_val v = { .sep = SEP_RDN };
	int r;

	while (i < p->n && s[i] == ' ')
		i++;
	/* "x500:" may leave the leading '/' out */
	if (p->form == ACCORD_DN_X500 && i < p->n && s[i] == '/')
		i++;
	tl = type_len(s, p->n, i, rfc, &tlen);
	if (!tl)
		return bad_start(p, i);
	for (;;) {
		if (v.sep == SEP_RDN) {
			r = rdn_open(p);
			if (r)
				return r;
		}
		tpos = i;
		r = resolve_type(p, i, tlen, &t);
		if (r)
			return r;
		if (t.mail)
			p->dn->warnings |= ACCORD_DN_W_MAIL;
		memset(&v, 0, sizeof(v));
		if (rfc)
			r = value_rfc(p, i + tl, &v);
		else
			r = value_literal(p, i + tl,
					  p->form == ACCORD_DN_X500 ? '/' : '.',
					  &v);
		if (r)
			return r;
		if (!(v.flags & ACCORD_AVA_HEX) &&
		    utf8_check(p->buf, v.len) != v.len)
			return accord_err_set(p->err, -EINVAL,
					      "the value of %.*s at byte %zu is not valid UTF-8 once its escapes are decoded",
					      (int)tlen, s + tpos, pos(p, tpos));
		if (p->form == ACCORD_DN_RACF && v.sep == SEP_RDN &&
		    !norm_ends_dot((const char *)p->buf, v.len)) {
			/* "O=VeriSign, Inc.L=": also the value "VeriSign, Inc." */
			v.flags |= ACCORD_AVA_DOT_COMPAT;
			p->dn->warnings |= ACCORD_DN_W_TRAILING_DOT;
		}
		r = add_ava(p, &t, tpos, &v);
		if (r)
			return r;
		if (v.sep == SEP_END)
			break;
		i = v.next;
		tl = v.tl;
		tlen = v.tlen;
	}
	r = rdn_finish(&p->dn->rdn[p->dn->nrdn - 1], p->dn->nrdn, p->err);
	if (r)
		return r;
	if (p->form == ACCORD_DN_X500) {
		/* X.500 order: the root first */
		struct accord_rdn tmp;
		size_t a = 0, b = p->dn->nrdn - 1;

		for (; a < b; a++, b--) {
			tmp = p->dn->rdn[a];
			p->dn->rdn[a] = p->dn->rdn[b];
			p->dn->rdn[b] = tmp;
		}
	}
	return 0;
}

/* Just after TYPE=: past an RFC 1779 quoted value when there is a closed
 * one, so that its commas decide nothing. */
static size_t skip_quoted(const char *s, size_t n, size_t i)
{
	size_t j;

	for (j = i; j < n && s[j] == ' '; j++)
		;
	if (j >= n || s[j] != '"')
		return i;
	for (j++; j < n && s[j] != '"'; j++)
		if (s[j] == '\\')
			j++;
	return j < n ? j + 1 : i;
}

/* §A.2.4 without a prefix, for text that does not begin with '/'.  The scan steps
 * over each TYPE= it finds, so the dots of an OID decide nothing. */
static enum accord_dn_form detect_form(const char *s, size_t n)
{
	bool comma_sep = false, dot_sep = false, comma = false;
	size_t i, j, tl;
	char c;

	for (i = 0; i < n && s[i] == ' '; i++)
		;
	tl = type_len(s, n, i, true, NULL);
	if (tl)
		i = skip_quoted(s, n, i + tl);
	while (i < n) {
		c = s[i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == ',' || c == ';' || c == '+') {
			comma |= c != '+';
			for (j = i + 1; j < n && s[j] == ' '; j++)
				;
			tl = type_len(s, n, j, true, NULL);
			if (tl) {
				comma_sep |= c != '+';
				i = skip_quoted(s, n, j + tl);
				continue;
			}
		} else if (c == '.') {
			tl = type_len(s, n, i + 1, false, NULL);
			if (tl) {
				dot_sep = true;
				i = skip_quoted(s, n, i + 1 + tl);
				continue;
			}
		}
		i++;
	}
	if (comma_sep)
		return ACCORD_DN_RFC4514;
	if (dot_sep || comma)
		return ACCORD_DN_RACF;
	return ACCORD_DN_RFC4514;
}

static const struct {
	const char *prefix;
	enum accord_dn_form form;
	const char *name;
} dn_prefixes[] = {
	{ "racf:", ACCORD_DN_RACF, "RACF dotted" },
	{ "rfc4514:", ACCORD_DN_RFC4514, "RFC 4514" },
	{ "x500:", ACCORD_DN_X500, "slash" },
};

static const char *form_name(enum accord_dn_form f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dn_prefixes); i++)
		if (dn_prefixes[i].form == f)
			return dn_prefixes[i].name;
	return "automatic";
}

int accord_dn_parse(const char *text, enum accord_dn_form form, unsigned flags,
		    struct accord_dn **out, struct accord_err *err)
{
	struct dn_parser p = { .form = form, .err = err };
	size_t i, n, bad, limit;
	int r;

	if (out)
		*out = NULL;
	if (!text || !out)
		return accord_err_set(err, -EINVAL, "no distinguished name given");
	if (flags & ~ACCORD_DN_RACF_STRICT)
		return accord_err_set(err, -EINVAL, "unknown DN parse flags 0x%x",
				      flags);
	if (form != ACCORD_DN_AUTO && form != ACCORD_DN_RACF &&
	    form != ACCORD_DN_RFC4514 && form != ACCORD_DN_X500)
		return accord_err_set(err, -EINVAL, "unknown DN form %d",
				      (int)form);
	p.s = text;
	for (i = 0; i < ARRAY_SIZE(dn_prefixes); i++) {
		size_t l = strlen(dn_prefixes[i].prefix);

		if (strncasecmp(text, dn_prefixes[i].prefix, l) != 0)
			continue;
		if (form != ACCORD_DN_AUTO && form != dn_prefixes[i].form)
			return accord_err_set(err, -EINVAL,
					      "the prefix '%s' contradicts the %s form asked for",
					      dn_prefixes[i].prefix, form_name(form));
		p.form = dn_prefixes[i].form;
		p.base = l;
		p.s = text + l;
		break;
	}
	n = strlen(p.s);
	limit = (flags & ACCORD_DN_RACF_STRICT) ? ACCORD_DN_RACF_MAX
						: ACCORD_DN_MAX_TEXT;
	if (n > limit)
		return accord_err_set(err, -EINVAL,
				      (flags & ACCORD_DN_RACF_STRICT)
					      ? "filter is %zu bytes, longer than RACF's %zu (IRRD142I)"
					      : "filter is %zu bytes, longer than %zu",
				      n, limit);
	for (i = 0; i < n && p.s[i] == ' '; i++)
		;
	if (i == n)
		return accord_err_set(err, -EINVAL, "the filter is empty");
	if (p.form == ACCORD_DN_AUTO && p.s[i] == '/')
		p.form = ACCORD_DN_X500;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p.s[i];

		if (c < 0x20 || c == 0x7f)
			return accord_err_set(err, -EINVAL,
					      "control character 0x%02x at byte %zu (write it as \\%02X)",
					      c, p.base + i + 1, c);
	}
	bad = utf8_check((const unsigned char *)p.s, n);
	if (bad != n)
		return accord_err_set(err, -EINVAL,
				      "invalid UTF-8 at byte %zu", p.base + bad + 1);
	p.n = n;
	if (p.form == ACCORD_DN_AUTO)
		p.form = detect_form(p.s, n);
	p.buf = malloc(n + 1);
	p.dn = calloc(1, sizeof(*p.dn));
	if (p.dn)
		p.dn->rdn = calloc(ACCORD_DN_MAX_RDNS, sizeof(*p.dn->rdn));
	if (!p.buf || !p.dn || !p.dn->rdn) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = parse_name(&p);
out:
	free(p.buf);
	if (r)
		accord_dn_free(p.dn);
	else
		*out = p.dn;
	return r;
}

/* ---- names from certificates ---- */

/* One AVA from an X509_NAME_ENTRY.  num: RDN number, most specific 1. */
static int der_ava(const X509_NAME_ENTRY *e, struct accord_ava *a, size_t num,
		   struct accord_err *err)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
	unsigned char *u = NULL;
	const char *what;
	int l, type, r = 0;

	l = OBJ_obj2txt(a->oid, sizeof(a->oid), obj, 1);
	if (l <= 0 || (size_t)l >= sizeof(a->oid))
		return accord_err_set(err, -EINVAL,
				      "RDN %zu: an attribute type whose OID is missing or longer than %d characters",
				      num, ACCORD_DN_OID_MAX - 1);
	a->keyword = canon_by_oid(a->oid);
	what = a->keyword ? a->keyword : a->oid;
	type = ASN1_STRING_type(data);
	switch (type) {
	case V_ASN1_UTF8STRING:
	case V_ASN1_NUMERICSTRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_T61STRING: /* as Latin-1, as OpenSSL does */
	case V_ASN1_IA5STRING:
	case V_ASN1_VISIBLESTRING:
	case V_ASN1_UNIVERSALSTRING:
	case V_ASN1_BMPSTRING:
		l = ASN1_STRING_to_UTF8(&u, data);
		if (l < 0 || utf8_check(u, (size_t)l) != (size_t)l) {
			r = accord_err_set(err, -EINVAL,
					   "RDN %zu: the value of %s does not convert to UTF-8",
					   num, what);
			goto out;
		}
		if (memchr(u, 0, (size_t)l)) {
			r = accord_err_set(err, -EINVAL,
					   "RDN %zu: the value of %s holds a NUL character",
					   num, what);
			goto out;
		}
		a->value = malloc((size_t)l + 1);
		if (!a->value) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(a->value, u, (size_t)l);
		a->value[l] = '\0';
		a->len = (size_t)l;
		break;
	case V_ASN1_SEQUENCE:
		/* not a string: OpenSSL keeps the whole encoding, which is
		 * RFC 4514's #hex */
		l = ASN1_STRING_length(data);
		a->value = malloc((size_t)l + 1);
		if (!a->value) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(a->value, ASN1_STRING_get0_data(data), (size_t)l);
		a->value[l] = '\0';
		a->len = (size_t)l;
		a->flags = ACCORD_AVA_HEX;
		break;
	default:
		r = accord_err_set(err, -EINVAL,
				   "RDN %zu: the value of %s has ASN.1 type %d, which is not a directory string",
				   num, what, type);
		break;
	}
out:
	OPENSSL_free(u);
	return r;
}

int accord_dn_from_der(const unsigned char *der, size_t len,
		       struct accord_dn **out, struct accord_err *err)
{
	const unsigned char *p = der;
	X509_NAME *nm = NULL;
	struct accord_dn *dn = NULL;
	size_t counts[ACCORD_DN_MAX_RDNS] = { 0 };
	size_t text = 0, num, k;
	int n, i, set, nset = 0, r = 0;

	if (out)
		*out = NULL;
	if (!der || !out || len == 0)
		return accord_err_set(err, -EINVAL, "no DER name given");
	if (len > DN_DER_MAX)
		return accord_err_set(err, -EINVAL,
				      "the DER name is %zu bytes, more than %u",
				      len, DN_DER_MAX);
	/* whatever OpenSSL queues on the way is ours to drop, not the
	 * caller's to find later */
	ERR_set_mark();
	nm = d2i_X509_NAME(NULL, &p, (long)len);
	if (!nm) {
		r = accord_err_set(err, -EINVAL,
				   "not a DER X.509 Name (a SEQUENCE of RDNs)");
		goto out;
	}
	if (p != der + len) {
		r = accord_err_set(err, -EINVAL,
				   "trailing bytes (%zu) after the DER X.509 Name",
				   len - (size_t)(p - der));
		goto out;
	}
	n = X509_NAME_entry_count(nm);
	if (n > 0)
		nset = X509_NAME_ENTRY_set(X509_NAME_get_entry(nm, n - 1)) + 1;
	if (nset < 0 || (n > 0 && nset == 0)) {
		r = accord_err_set(err, -EINVAL, "a malformed RDN");
		goto out;
	}
	if (nset > ACCORD_DN_MAX_RDNS) {
		r = accord_err_set(err, -EINVAL,
				   "the name has %d RDNs, more than %d", nset,
				   ACCORD_DN_MAX_RDNS);
		goto out;
	}
	/* the entries come in DER order, each tagged with its RDN */
	for (i = 0; i < n; i++) {
		set = X509_NAME_ENTRY_set(X509_NAME_get_entry(nm, i));
		if (set < 0 || set >= nset) {
			r = accord_err_set(err, -EINVAL, "a malformed RDN");
			goto out;
		}
		if (++counts[set] > ACCORD_DN_MAX_AVAS) {
			r = accord_err_set(err, -EINVAL,
					   "RDN %d: more than %d AVAs",
					   nset - set, ACCORD_DN_MAX_AVAS);
			goto out;
		}
	}
	dn = calloc(1, sizeof(*dn));
	if (!dn || (nset && !(dn->rdn = calloc((size_t)nset, sizeof(*dn->rdn))))) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	dn->nrdn = (size_t)nset;
	for (set = 0; set < nset; set++) {
		num = (size_t)(nset - set);
		if (counts[set] == 0) {
			r = accord_err_set(err, -EINVAL, "RDN %zu is empty", num);
			goto out;
		}
		dn->rdn[num - 1].ava = calloc(counts[set], sizeof(struct accord_ava));
		if (!dn->rdn[num - 1].ava) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
		struct accord_rdn *rdn;
		struct accord_ava *a;

		/* DER runs root first; rdn[0] is the most specific */
		num = (size_t)(nset - X509_NAME_ENTRY_set(e));
		rdn = &dn->rdn[num - 1];
		if (rdn->nava >= counts[nset - num]) {
			r = accord_err_set(err, -EINVAL, "a malformed RDN");
			goto out;
		}
		a = &rdn->ava[rdn->nava];
		r = der_ava(e, a, num, err);
		if (r)
			goto out;
		rdn->nava++;
		/* as text: TYPE=value and a separator */
		text += strlen(a->keyword ? a->keyword : a->oid) + 2 +
			((a->flags & ACCORD_AVA_HEX) ? 1 + 2 * a->len : a->len);
		if (text > ACCORD_DN_MAX_TEXT + 1) {
			r = accord_err_set(err, -EINVAL,
					   "the name is longer than %d bytes as text (at RDN %zu)",
					   ACCORD_DN_MAX_TEXT, num);
			goto out;
		}
	}
	for (k = 0; k < dn->nrdn; k++) {
		r = rdn_finish(&dn->rdn[k], k + 1, err);
		if (r)
			goto out;
	}
out:
	X509_NAME_free(nm);
	ERR_pop_to_mark();
	if (r)
		accord_dn_free(dn);
	else
		*out = dn;
	return r;
}

/* ---- keys and matching ---- */

/* The order of AVAs inside a key: OID, #hex after strings, then the
 * normalized value. */
static int key_cmp(const struct accord_ava *a, const struct accord_ava *b)
{
	int c = strcmp(a->oid, b->oid);

	if (c)
		return c;
	if ((a->flags ^ b->flags) & ACCORD_AVA_HEX)
		return (a->flags & ACCORD_AVA_HEX) ? 1 : -1;
	if (a->flags & ACCORD_AVA_HEX)
		return ava_cmp(a, b);
	return norm_cmp(a, b, true);
}

int accord_dn_key(const struct accord_dn *dn, size_t count, char *buf,
		  size_t cap)
{
	struct dn_out o = { buf, cap, 0, false };
	const struct accord_ava *order[ACCORD_DN_MAX_AVAS], *tmp;
	struct dn_norm it;
	size_t i, k, j;
	bool first;
	int c;

	if (!dn || count > dn->nrdn || (!buf && cap))
		return -EINVAL;
	for (i = dn->nrdn - count; i < dn->nrdn; i++) {
		const struct accord_rdn *r = &dn->rdn[i];

		if (r->nava > ACCORD_DN_MAX_AVAS)
			return -EINVAL;
		if (i > dn->nrdn - count)
			out_ch(&o, ',');
		/* the stored order is by raw value; the key's is by the
		 * normalized one, so that case does not reorder a set */
		for (k = 0; k < r->nava; k++) {
			tmp = &r->ava[k];
			for (j = k; j > 0 && key_cmp(order[j - 1], tmp) > 0; j--)
				order[j] = order[j - 1];
			order[j] = tmp;
		}
		for (k = 0; k < r->nava; k++) {
			if (k)
				out_ch(&o, '+');
			out_type(&o, order[k], false);
			if (order[k]->flags & ACCORD_AVA_HEX) {
				out_hex_value(&o, order[k]);
				continue;
			}
			/* trimmed: no space at either end to escape */
			norm_init(&it, order[k]->value, order[k]->len, true);
			for (first = true; (c = norm_next(&it)) >= 0; first = false)
				out_rfc_char(&o, (unsigned)c, first, false);
		}
		if (o.over)
			break;
	}
	return out_end(&o);
}

static bool ava_match(const struct accord_ava *f, const struct accord_ava *n,
		      enum accord_dn_match mode)
{
	if (strcmp(f->oid, n->oid) != 0 ||
	    ((f->flags ^ n->flags) & ACCORD_AVA_HEX))
		return false;
	if ((f->flags & ACCORD_AVA_HEX) || mode == ACCORD_MATCH_EXACT) {
		if (f->len == n->len && memcmp(f->value, n->value, f->len) == 0)
			return true;
		return !(f->flags & ACCORD_AVA_HEX) &&
		       (f->flags & ACCORD_AVA_DOT_COMPAT) &&
		       n->len == f->len + 1 && n->value[f->len] == '.' &&
		       memcmp(f->value, n->value, f->len) == 0;
	}
	if (norm_cmp(f, n, false) == 0)
		return true;
	return (f->flags & ACCORD_AVA_DOT_COMPAT) && norm_eq_dot(f, n);
}

/* Kuhn's augmenting path over at most ACCORD_DN_MAX_AVAS AVAs. */
static bool augment(size_t a, const uint32_t *adj, int *owner, uint32_t *seen,
		    size_t nava)
{
	size_t b;

	for (b = 0; b < nava; b++) {
		if (!(adj[a] & (1u << b)) || (*seen & (1u << b)))
			continue;
		*seen |= 1u << b;
		if (owner[b] < 0 ||
		    augment((size_t)owner[b], adj, owner, seen, nava)) {
			owner[b] = (int)a;
			return true;
		}
	}
	return false;
}

/* The same AVA set: each filter AVA matched to its own name AVA. */
static bool rdn_match(const struct accord_rdn *f, const struct accord_rdn *n,
		      enum accord_dn_match mode)
{
	uint32_t adj[ACCORD_DN_MAX_AVAS] = { 0 }, seen;
	int owner[ACCORD_DN_MAX_AVAS];
	size_t a, b;

	if (f->nava != n->nava || f->nava == 0 || f->nava > ACCORD_DN_MAX_AVAS)
		return false;
	if (f->nava == 1)
		return ava_match(&f->ava[0], &n->ava[0], mode);
	for (a = 0; a < f->nava; a++) {
		owner[a] = -1;
		for (b = 0; b < n->nava; b++)
			if (ava_match(&f->ava[a], &n->ava[b], mode))
				adj[a] |= 1u << b;
		if (!adj[a])
			return false;
	}
	for (a = 0; a < f->nava; a++) {
		seen = 0;
		if (!augment(a, adj, owner, &seen, f->nava))
			return false;
	}
	return true;
}

bool accord_dn_suffix_match(const struct accord_dn *filter,
			    const struct accord_dn *name,
			    enum accord_dn_match mode)
{
	size_t i, off;

	if (!filter || !name || filter->nrdn == 0 || filter->nrdn > name->nrdn)
		return false;
	off = name->nrdn - filter->nrdn;
	for (i = 0; i < filter->nrdn; i++)
		if (!rdn_match(&filter->rdn[i], &name->rdn[off + i], mode))
			return false;
	return true;
}

/* ---- display ---- */

/* A RACF dotted value: literal, but a '.', '+' or ',' that would read as
 * a separator is escaped, and so are '\', a leading '"' and controls. */
static void out_value_racf(struct dn_out *o, const struct accord_ava *a)
{
	const char *v = a->value;
	size_t n = a->len, i, j;
	unsigned c;

	if (a->flags & ACCORD_AVA_HEX) {
		out_hex_value(o, a);
		return;
	}
	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f) {
			out_ch(o, '\\');
			out_hexbyte(o, c, HEX_UPPER);
			continue;
		}
		if (c == '\\' || (i == 0 && c == '"') ||
		    ((c == '.' || c == '+') && type_len(v, n, i + 1, false, NULL)))
			out_ch(o, '\\');
		if (c == ',' || c == ';') {
			for (j = i + 1; j < n && v[j] == ' '; j++)
				;
			if (type_len(v, n, j, true, NULL))
				out_ch(o, '\\');
		}
		out_ch(o, (char)c);
	}
}

int accord_dn_format(const struct accord_dn *dn, enum accord_dn_style style,
		     char *buf, size_t cap)
{
	struct dn_out o = { buf, cap, 0, false };
	bool racf = style == ACCORD_DN_STYLE_RACF;
	size_t i, k;

	if (!dn || (!buf && cap))
		return -EINVAL;
	for (i = 0; i < dn->nrdn && !o.over; i++) {
		if (i)
			out_ch(&o, racf ? '.' : ',');
		for (k = 0; k < dn->rdn[i].nava; k++) {
			if (k)
				out_ch(&o, '+');
			out_type(&o, &dn->rdn[i].ava[k], racf);
			if (racf)
				out_value_racf(&o, &dn->rdn[i].ava[k]);
			else
				out_value_rfc(&o, &dn->rdn[i].ava[k]);
		}
	}
	return out_end(&o);
}

/* ---- RACDCERT MAP(dsn) starting points ---- */

/* Does a's value begin with s's (ACCORD_MATCH_LDAP)? */
static bool value_begins(const struct accord_ava *a, const struct accord_ava *s)
{
	struct dn_norm x, y;
	int c;

	if (strcmp(a->oid, s->oid) != 0 ||
	    ((a->flags ^ s->flags) & ACCORD_AVA_HEX))
		return false;
	if (a->flags & ACCORD_AVA_HEX)
		return s->len <= a->len && memcmp(a->value, s->value, s->len) == 0;
	norm_init(&x, a->value, a->len, false);
	norm_init(&y, s->value, s->len, false);
	while ((c = norm_next(&y)) >= 0)
		if (norm_next(&x) != c)
			return false;
	return true;
}

int accord_dn_starting_point(const struct accord_dn *name,
			     const struct accord_dn *start, size_t *count)
{
	size_t i, k;

	if (!name || !start || !count || start->nrdn != 1 ||
	    start->rdn[0].nava != 1)
		return -EINVAL;
	for (i = 0; i < name->nrdn; i++)
		for (k = 0; k < name->rdn[i].nava; k++)
			if (value_begins(&name->rdn[i].ava[k],
					 &start->rdn[0].ava[0])) {
				*count = name->nrdn - i;
				return 0;
			}
	return -ENOENT;
}
