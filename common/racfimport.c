/* SPDX-License-Identifier: MIT */
/*
 * RACF command text (TSO) to certificate maps and criteria entries.
 *
 * Two passes per command.  The first (scan) walks the bytes once: it
 * drops comments, joins continuation lines and cuts the text into
 * commands, remembering each command's first line.  The second
 * (tokenize, then racdcert/rdefine) reads one command.  Whatever a
 * command holds, it ends as one entry or one skip with a reason; the only
 * errors are -ENOMEM and -EFBIG.
 *
 * What is accepted, exactly (keywords case-insensitive, full spelling
 * only: RACF's own abbreviations are not documented well enough to take
 * one without guessing, and CA Top Secret's SDNFILTR/IDNFILTR are a
 * different product's spelling):
 *
 *   RACDCERT  ID(userid) | MULTIID, MAP, SDNFILTER(f), IDNFILTER(f),
 *             WITHLABEL(l), CRITERIA(t), TRUST | NOTRUST, in any order
 *   RDEFINE | RDEF  DIGTCRIT  profile | (profile)  APPLDATA(userid)
 *             and, ignored because they do not change the mapping:
 *             UACC(x), OWNER(x), DATA(x)
 *   SETROPTS | SETR  anything: a skip that says why nothing is needed
 *
 * Values are 'quoted' (with '' for one apostrophe) or unquoted text up to
 * the matching ')'.  An unquoted value holding a blank or a comma is
 * refused (TSO would read a list), and so is an apostrophe in it, except
 * inside deeper parentheses (DELMAP(LABEL('x')) must still read as "not
 * a MAP").  User IDs are checked with RACF's rules (accord_pt_racf_id) and
 * upper-cased; filters, labels, criteria and DIGTCRIT profile names are
 * kept as written.  Lengths follow RACF: filters 255, labels 32, criteria
 * 255 characters (UTF-8 characters, since RACF counts EBCDIC bytes),
 * profile names 246.  A command has at most 31 operands and 64 KiB.
 *
 * Lines: a last non-blank '-' continues the command with the next line's
 * leading blanks kept, '+' with them dropped, also inside a quoted string
 * (that is how long filters are written).  Comments: slash-star to
 * star-slash outside quotes, also across lines; a comment counts as one
 * blank and the lines it spans are joined, so a comment after a
 * continuation mark does not stop the continuation.  A comment left open
 * at the end of the text is a skip.
 *
 * Skip texts and reasons are for a terminal: control characters in them
 * are shown as '?' (a tab as a blank), so an imported file cannot send
 * escape sequences through accordctl's report.
 */
#include <accord/racfimport.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/certmap.h>
#include <accord/dn.h>
#include <accord/passticket.h>

#define RACF_INPUT_MAX (16u << 20)  /* whole text */
#define RACF_CMD_MAX (64u << 10)    /* one command, continuations joined */
#define RACF_TEXT_MAX 120           /* struct accord_racf_skip.text */
#define RACF_OPS_MAX 32             /* operands of one command, verb included */
#define RACF_PROFILE_MAX 246        /* general resource profile name */
#define RACF_WHY_MAX 256

#define NOT_OURS "not a RACDCERT MAP or RDEFINE DIGTCRIT command"

/* One operand: KEYWORD, KEYWORD(value) or a bare (value). */
struct op {
	const char *kw;     /* as written; "" for a bare (value) */
	const char *value;  /* quotes and '' undone; NULL: no parentheses */
};

struct parser {
	struct accord_racf_script *s;
	size_t cmd_cap, skip_cap;
	char *buf;          /* the command being joined, RACF_CMD_MAX + 1 */
	char *work;         /* tokenize() works in place on a copy */
	size_t len;
	size_t line_start;  /* where the current logical line began in buf */
	unsigned line;      /* physical line being read, from 1 */
	unsigned cmd_line;  /* first line holding a non-blank, 0: none yet */
	unsigned nul_line;  /* first line of a NUL byte in this command */
	char last_nb;       /* last non-blank of the logical line outside comments */
	bool in_quote, in_comment, drop_lead, too_long, has_nul;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_sep(char c)
{
	return is_blank(c) || c == ',';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* ASCII case-insensitive equality, independent of the caller's locale. */
static bool kw_is(const char *kw, const char *want)
{
	while (*kw && upper(*kw) == *want) {
		kw++;
		want++;
	}
	return *kw == '\0' && *want == '\0';
}

/* UTF-8 characters (bytes that do not continue a sequence). */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void sanitize(char *s)
{
	for (; *s; s++) {
		if (*s == '\t')
			*s = ' ';
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/* The first RACF_TEXT_MAX bytes of a command, blanks trimmed, not cut
 * inside a UTF-8 sequence; NUL bytes become '?'. */
static char *skip_text(const char *p, size_t n)
{
	char *t;
	size_t i;

	while (n && is_blank(*p)) {
		p++;
		n--;
	}
	if (n > RACF_TEXT_MAX) {
		n = RACF_TEXT_MAX;
		while (n && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	while (n && is_blank(p[n - 1]))
		n--;
	t = malloc(n + 1);
	if (!t)
		return NULL;
	for (i = 0; i < n; i++)
		t[i] = p[i] ? p[i] : '?';
	t[n] = '\0';
	sanitize(t);
	return t;
}

static int add_skip(struct parser *p, unsigned line, const char *text, size_t n,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add_skip(struct parser *p, unsigned line, const char *text, size_t n,
		    const char *fmt, ...)
{
	struct accord_racf_skip *k;
	char why[RACF_WHY_MAX];
	va_list ap;

	if (p->s->nskips == p->skip_cap) {
		size_t cap = p->skip_cap ? p->skip_cap * 2 : 16;

		k = realloc(p->s->skips, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		p->s->skips = k;
		p->skip_cap = cap;
	}
	k = &p->s->skips[p->s->nskips];
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	k->line = line;
	k->text = skip_text(text, n);
	k->why = strdup(why);
	if (!k->text || !k->why) {
		free(k->text);
		free(k->why);
		return -ENOMEM;
	}
	sanitize(k->why);
	p->s->nskips++;
	return 0;
}

static void cmd_clear(struct accord_racf_cmd *c)
{
	free(c->id);
	free(c->sdn);
	free(c->idn);
	free(c->label);
	free(c->criteria);
	free(c->crit_name);
	free(c->crit_user);
}

/* Takes c's strings: on failure they are freed. */
static int add_cmd(struct parser *p, struct accord_racf_cmd *c)
{
	if (p->s->ncmds == p->cmd_cap) {
		size_t cap = p->cmd_cap ? p->cmd_cap * 2 : 16;
		struct accord_racf_cmd *n = realloc(p->s->cmds, cap * sizeof(*n));

		if (!n) {
			cmd_clear(c);
			return -ENOMEM;
		}
		p->s->cmds = n;
		p->cmd_cap = cap;
	}
	p->s->cmds[p->s->ncmds++] = *c;
	return 0;
}

/* NULL stays NULL; -ENOMEM is seen by the caller through *fail. */
static char *dup_or_null(const char *v, bool *fail)
{
	char *d;

	if (!v)
		return NULL;
	d = strdup(v);
	if (!d)
		*fail = true;
	return d;
}

/* ---- one command: operands ---- */

/*
 * Reads the value starting at *pp (just after its '(') into place: it
 * only shrinks.  Leaves *pp after the matching ')'.  NULL and *why set on
 * a syntax error; kw names the operand in the message ("" for a bare one).
 */
static char *read_value(char **pp, const char *kw, char *why, size_t whylen)
{
	char *r = *pp, *w = r, *v = r;
	int depth = 1;
	bool sep = false, multi = false;

	while (is_blank(*r))
		r++;
	if (*r == '\'') {
		for (r++;; r++) {
			if (*r == '\0') {
				snprintf(why, whylen, "unbalanced quote in %.32s(...)", kw);
				return NULL;
			}
			if (*r == '\'') {
				if (r[1] != '\'')
					break;
				r++;
			}
			*w++ = *r;
		}
		r++;
		while (is_blank(*r))
			r++;
		if (*r != ')') {
			if (*r == '\0')
				snprintf(why, whylen, "unbalanced parentheses in %.32s(...)", kw);
			else
				snprintf(why, whylen, "text after the quoted string in %.32s(...)",
					 kw);
			return NULL;
		}
		*w = '\0';
		*pp = r + 1;
		return v;
	}
	/* Unquoted: up to the matching ')'.  Deeper parentheses may hold
	 * quoted strings (RACDCERT DELMAP(LABEL('x'))), copied as they are:
	 * such values are never taken, but must not hide the verb's form. */
	for (;; r++) {
		if (*r == '\0') {
			snprintf(why, whylen, "unbalanced parentheses in %.32s(...)", kw);
			return NULL;
		}
		if (*r == '\'' && depth == 1) {
			snprintf(why, whylen, "apostrophe inside the unquoted value of %.32s(...)",
				 kw);
			return NULL;
		}
		if (*r == '\'') {
			do
				*w++ = *r++;
			while (*r && *r != '\'');
			if (*r == '\0') {
				snprintf(why, whylen, "unbalanced quote in %.32s(...)", kw);
				return NULL;
			}
		} else if (*r == ')') {
			if (--depth == 0)
				break;
		} else if (depth == 1 && is_blank(*r)) {
			sep = true;
		} else if (depth == 1 && (sep || *r == ',')) {
			multi = true;  /* said once the parentheses are known to close */
		} else if (*r == '(') {
			depth++;
		}
		*w++ = *r;
	}
	if (multi) {
		snprintf(why, whylen, "more than one value in %.32s(...)", kw);
		return NULL;
	}
	*pp = r + 1;
	while (w > v && is_blank(w[-1]))
		w--;
	*w = '\0';
	return v;
}

/* Splits s (in place) into operands; -1 and *why on a syntax error. */
static int tokenize(char *s, struct op *ops, size_t *nops, char *why, size_t whylen)
{
	size_t n = 0;

	for (;;) {
		struct op *o;
		char *kw;

		while (is_sep(*s))
			s++;
		if (*s == '\0')
			break;
		if (n == RACF_OPS_MAX) {
			snprintf(why, whylen, "more than %d operands", RACF_OPS_MAX - 1);
			return -1;
		}
		o = &ops[n++];
		o->value = NULL;
		if (*s == ')') {
			snprintf(why, whylen, "unbalanced parentheses: ')' without '('");
			return -1;
		}
		if (*s == '\'') {
			snprintf(why, whylen, "quoted string without a keyword");
			return -1;
		}
		kw = s;
		while (*s && !is_sep(*s) && *s != '(' && *s != ')' && *s != '\'')
			s++;
		o->kw = kw;
		switch (*s) {
		case '\'':
			*s = '\0';
			snprintf(why, whylen, "apostrophe right after %.32s", kw);
			return -1;
		case ')':
			*s = '\0';
			snprintf(why, whylen, "unbalanced parentheses: ')' after %.32s", kw);
			return -1;
		case '(':
			*s++ = '\0';
			o->value = read_value(&s, kw, why, whylen);
			if (!o->value)
				return -1;
			if (*s == ')') {
				snprintf(why, whylen, "unbalanced parentheses: ')' after %.32s(...)",
					 kw);
				return -1;
			}
			if (*s && !is_sep(*s)) {
				snprintf(why, whylen, "no blank or comma after %.32s(...)", kw);
				return -1;
			}
			break;
		case '\0':
			break;
		default:
			*s++ = '\0';
			break;
		}
	}
	*nops = n;
	return 0;
}

/* ---- one command: meaning ---- */

/* A RACF user ID, upper-cased into a new string; NULL and *why if it is
 * not one (or *fail on -ENOMEM). */
static char *racf_user(const char *what, const char *v, char *why, size_t whylen, bool *fail)
{
	char out[ACCORD_PT_ID_MAX + 1], name[48];
	struct accord_err e = { 0 };
	char *d;

	snprintf(name, sizeof(name), "%s(%.20s)", what, v);
	if (accord_pt_racf_id(name, v, out, &e) < 0) {
		snprintf(why, whylen, "%.200s", e.msg);
		return NULL;
	}
	d = strdup(out);
	if (!d)
		*fail = true;
	return d;
}

/* A value that must not be empty nor longer than max characters. */
static bool bad_length(const char *kw, const char *v, size_t max, char *why, size_t whylen)
{
	if (!v)
		return false;
	if (!v[0]) {
		snprintf(why, whylen, "empty %s", kw);
		return true;
	}
	if (chars(v) > max) {
		snprintf(why, whylen, "%s longer than %zu characters", kw, max);
		return true;
	}
	return false;
}

/* Stores a keyword's value or flag once; false and *why otherwise. */
static bool take_value(const struct op *o, const char *name, const char **slot, char *why,
		       size_t whylen)
{
	if (!o->value) {
		snprintf(why, whylen, "%s needs a value: %s(...)", name, name);
		return false;
	}
	if (*slot) {
		snprintf(why, whylen, "duplicate keyword %s", name);
		return false;
	}
	*slot = o->value;
	return true;
}

static bool take_flag(const struct op *o, const char *name, bool *flag, char *why,
		      size_t whylen)
{
	if (o->value) {
		snprintf(why, whylen, "%s takes no value", name);
		return false;
	}
	if (*flag) {
		snprintf(why, whylen, "duplicate keyword %s", name);
		return false;
	}
	*flag = true;
	return true;
}

/*
 * RACDCERT ... MAP ...: 1 and *c filled, 0 and *why for a skip, -ENOMEM.
 */
static int racdcert(const struct op *ops, size_t n, struct accord_racf_cmd *c, char *why,
		    size_t whylen)
{
	static const char *const value_kws[] = { "ID", "SDNFILTER", "IDNFILTER", "WITHLABEL",
						 "CRITERIA" };
	const char *vals[5] = { NULL };
	bool multiid = false, map = false, trust = false, notrust = false, fail = false;
	bool map_dsn = false;
	size_t i, k;

	for (i = 1; i < n && !map; i++)
		map = kw_is(ops[i].kw, "MAP");
	if (!map) {
		snprintf(why, whylen, NOT_OURS);
		return 0;
	}
	map = false;
	for (i = 1; i < n; i++) {
		const struct op *o = &ops[i];
		bool ok = false;

		for (k = 0; k < 5; k++)
			if (kw_is(o->kw, value_kws[k]))
				break;
		if (k < 5)
			ok = take_value(o, value_kws[k], &vals[k], why, whylen);
		else if (kw_is(o->kw, "MULTIID"))
			ok = take_flag(o, "MULTIID", &multiid, why, whylen);
		else if (kw_is(o->kw, "TRUST"))
			ok = take_flag(o, "TRUST", &trust, why, whylen);
		else if (kw_is(o->kw, "NOTRUST"))
			ok = take_flag(o, "NOTRUST", &notrust, why, whylen);
		else if (kw_is(o->kw, "MAP")) {
			/* MAP(dsn): the value is checked below, after the syntax */
			map_dsn = map_dsn || o->value;
			if (map) {
				snprintf(why, whylen, "duplicate keyword MAP");
				return 0;
			}
			ok = map = true;
		} else if (!o->kw[0])
			snprintf(why, whylen, "operand (%.32s) without a keyword", o->value);
		else
			snprintf(why, whylen, "unknown keyword %.32s", o->kw);
		if (!ok)
			return 0;
	}
	/* vals[]: 0 ID, 1 SDNFILTER, 2 IDNFILTER, 3 WITHLABEL, 4 CRITERIA */
	if (map_dsn)
		snprintf(why, whylen,
			 "MAP(data set) needs the certificate: use certmap add --from-cert");
	else if (vals[0] && multiid)
		snprintf(why, whylen, "ID(...) and MULTIID exclude each other");
	else if (!vals[0] && !multiid)
		snprintf(why, whylen,
			 "neither ID(userid) nor MULTIID: RACF would map to the user issuing the command");
	else if (trust && notrust)
		snprintf(why, whylen, "both TRUST and NOTRUST");
	else if (!vals[1] && !vals[2])
		snprintf(why, whylen, "neither SDNFILTER nor IDNFILTER: MAP needs at least one");
	else if (bad_length("SDNFILTER", vals[1], ACCORD_DN_RACF_MAX, why, whylen) ||
		 bad_length("IDNFILTER", vals[2], ACCORD_DN_RACF_MAX, why, whylen) ||
		 bad_length("WITHLABEL", vals[3], ACCORD_LABEL_MAX, why, whylen) ||
		 bad_length("CRITERIA", vals[4], ACCORD_CRITERIA_MAX, why, whylen))
		; /* why is set */
	else if (vals[4] && !multiid)
		snprintf(why, whylen, "CRITERIA is only valid with MULTIID");
	else if (multiid && !vals[4])
		snprintf(why, whylen,
			 "MULTIID without CRITERIA: no DIGTCRIT profile to take the user from");
	else {
		why[0] = '\0';
		if (vals[0]) {
			c->id = racf_user("ID", vals[0], why, whylen, &fail);
			if (!c->id && !fail)
				return 0;
		}
		c->kind = ACCORD_RACF_MAP;
		c->multiid = multiid;
		c->notrust = notrust;
		c->sdn = dup_or_null(vals[1], &fail);
		c->idn = dup_or_null(vals[2], &fail);
		c->label = dup_or_null(vals[3], &fail);
		c->criteria = dup_or_null(vals[4], &fail);
		if (fail) {
			cmd_clear(c);
			return -ENOMEM;
		}
		return 1;
	}
	return 0;
}

/*
 * RDEFINE DIGTCRIT profile APPLDATA(userid): 1 and *c filled, 0 and *why
 * for a skip, -ENOMEM.  UACC, OWNER and DATA change who may touch the
 * profile, not the mapping: ignored.
 */
static int rdefine(const struct op *ops, size_t n, struct accord_racf_cmd *c, char *why,
		   size_t whylen)
{
	static const char *const ignored[] = { "UACC", "OWNER", "DATA" };
	const char *seen[3] = { NULL };
	const char *profile, *appldata = NULL;
	bool fail = false;
	size_t i, k;

	if (n < 2 || !kw_is(ops[1].kw, "DIGTCRIT")) {
		snprintf(why, whylen, NOT_OURS);
		return 0;
	}
	if (ops[1].value) {
		snprintf(why, whylen, "DIGTCRIT takes no value: RDEFINE DIGTCRIT profile");
		return 0;
	}
	/* the profile: a word or one name in parentheses */
	if (n < 3 || (ops[2].kw[0] && ops[2].value)) {
		snprintf(why, whylen, "RDEFINE DIGTCRIT without a profile name");
		return 0;
	}
	profile = ops[2].kw[0] ? ops[2].kw : ops[2].value;
	if (bad_length("profile name", profile, RACF_PROFILE_MAX, why, whylen))
		return 0;
	for (i = 3; i < n; i++) {
		const struct op *o = &ops[i];

		for (k = 0; k < 3; k++)
			if (kw_is(o->kw, ignored[k]))
				break;
		if (k < 3) {
			if (!take_value(o, ignored[k], &seen[k], why, whylen))
				return 0;
		} else if (kw_is(o->kw, "APPLDATA")) {
			if (!take_value(o, "APPLDATA", &appldata, why, whylen))
				return 0;
		} else {
			if (!o->kw[0])
				snprintf(why, whylen, "operand (%.32s) without a keyword", o->value);
			else
				snprintf(why, whylen, "unknown keyword %.32s", o->kw);
			return 0;
		}
	}
	if (!appldata) {
		snprintf(why, whylen, "RDEFINE DIGTCRIT without APPLDATA: no user to map to");
		return 0;
	}
	c->crit_user = racf_user("APPLDATA", appldata, why, whylen, &fail);
	if (!c->crit_user)
		return fail ? -ENOMEM : 0;
	c->kind = ACCORD_RACF_CRIT;
	c->crit_name = strdup(profile);
	if (!c->crit_name) {
		cmd_clear(c);
		return -ENOMEM;
	}
	return 1;
}

/* The command verb: the first word, up to 15 bytes (longer: not ours). */
static void verb_of(const char *s, char out[16])
{
	size_t n = 0;

	while (is_sep(*s))
		s++;
	while (*s && !is_sep(*s) && *s != '(' && *s != ')' && *s != '\'' && n < 15)
		out[n++] = *s++;
	out[n] = '\0';
}

/* p->buf[0..len) is a complete command without NUL bytes. */
static int parse_command(struct parser *p, unsigned line)
{
	struct accord_racf_cmd c;
	struct op ops[RACF_OPS_MAX];
	char why[RACF_WHY_MAX], verb[16];
	size_t n = 0;
	int r;

	p->buf[p->len] = '\0';
	verb_of(p->buf, verb);
	if (kw_is(verb, "SETROPTS") || kw_is(verb, "SETR"))
		return add_skip(p, line, p->buf, p->len,
				"SETROPTS: accord publishes every change at once; nothing to do");
	if (!kw_is(verb, "RACDCERT") && !kw_is(verb, "RDEFINE") && !kw_is(verb, "RDEF"))
		return add_skip(p, line, p->buf, p->len, NOT_OURS);
	memcpy(p->work, p->buf, p->len + 1);
	if (tokenize(p->work, ops, &n, why, sizeof(why)) < 0)
		return add_skip(p, line, p->buf, p->len, "%s", why);
	if (ops[0].value)
		return add_skip(p, line, p->buf, p->len, "(...) right after %s", verb);
	memset(&c, 0, sizeof(c));
	c.line = line;
	if (kw_is(verb, "RACDCERT"))
		r = racdcert(ops, n, &c, why, sizeof(why));
	else
		r = rdefine(ops, n, &c, why, sizeof(why));
	if (r < 0)
		return r;
	if (r == 0)
		return add_skip(p, line, p->buf, p->len, "%s", why);
	return add_cmd(p, &c);
}

/* ---- the text: lines, comments, continuations ---- */

static void cmd_reset(struct parser *p)
{
	p->len = 0;
	p->line_start = 0;
	p->cmd_line = 0;
	p->nul_line = 0;
	p->last_nb = '\0';
	p->in_quote = p->drop_lead = p->too_long = p->has_nul = false;
}

static int finish_command(struct parser *p)
{
	unsigned line = p->cmd_line ? p->cmd_line : p->nul_line;
	size_t i;
	int r;

	for (i = 0; i < p->len && is_blank(p->buf[i]); i++)
		;
	if (p->has_nul && i == p->len)
		r = add_skip(p, line, p->buf, p->len, "NUL byte in a comment or blank line");
	else if (p->has_nul)
		r = add_skip(p, line, p->buf, p->len, "NUL byte in the command");
	else if (p->too_long)
		r = add_skip(p, line, p->buf, p->len, "command longer than %u bytes",
			     RACF_CMD_MAX);
	else if (i == p->len)
		r = 0;  /* nothing but blanks and comments */
	else
		r = parse_command(p, line);
	cmd_reset(p);
	return r;
}

/* One byte of command text (outside comments). */
static void put(struct parser *p, char c)
{
	if (p->drop_lead) {
		if (is_blank(c))
			return;
		p->drop_lead = false;
	}
	if (!is_blank(c)) {
		p->last_nb = c;
		if (!p->cmd_line)
			p->cmd_line = p->line;
	}
	if (p->len == RACF_CMD_MAX) {
		p->too_long = true;
		return;
	}
	p->buf[p->len++] = c;
}

/* The end of a line outside a comment: continue or finish the command. */
static int end_of_line(struct parser *p)
{
	char last = p->last_nb;

	if (last != '-' && last != '+')
		return finish_command(p);
	/* drop the trailing blanks and the continuation mark itself; when
	 * too_long, the mark may not be in buf, and nothing is parsed */
	if (!p->too_long) {
		while (p->len > p->line_start && is_blank(p->buf[p->len - 1]))
			p->len--;
		if (p->len > p->line_start)
			p->len--;
	}
	p->drop_lead = last == '+';
	p->last_nb = '\0';
	p->line_start = p->len;
	return 0;
}

static int scan(struct parser *p, const char *text, size_t len)
{
	unsigned comment_line = 0;
	size_t comment_off = 0, i;
	int r = 0;

	p->line = 1;
	for (i = 0; i < len && r == 0; i++) {
		char c = text[i];
		bool next_slash = i + 1 < len && text[i + 1] == '/';
		bool next_star = i + 1 < len && text[i + 1] == '*';

		if (c == '\n') {
			if (!p->in_comment)
				r = end_of_line(p);
			p->line++;
			continue;
		}
		if (c == '\r' && (i + 1 == len || text[i + 1] == '\n'))
			continue;
		if (c == '\0') {
			p->has_nul = true;
			if (!p->nul_line)
				p->nul_line = p->line;
		}
		if (p->in_comment) {
			if (c == '*' && next_slash) {
				p->in_comment = false;
				i++;
				put(p, ' ');
			}
			continue;
		}
		if (!p->in_quote && c == '/' && next_star) {
			p->in_comment = true;
			comment_line = p->line;
			comment_off = i;
			i++;
			continue;
		}
		if (c == '\'')
			p->in_quote = !p->in_quote;
		put(p, c);
	}
	if (r < 0)
		return r;
	if (p->in_comment) {
		/* name the command it swallowed, else the comment's first line */
		const char *t = p->buf, *nl;
		size_t n = p->len;

		if (!p->cmd_line) {
			t = text + comment_off;
			nl = memchr(t, '\n', len - comment_off);
			n = nl ? (size_t)(nl - t) : len - comment_off;
			if (n && t[n - 1] == '\r')
				n--;
		}
		r = add_skip(p, p->cmd_line ? p->cmd_line : comment_line, t, n,
			     "comment opened on line %u is not closed", comment_line);
		cmd_reset(p);
		return r;
	}
	r = end_of_line(p);
	if (r == 0 && (p->len || p->has_nul || p->too_long))
		r = finish_command(p);
	return r;
}

void accord_racf_free(struct accord_racf_script *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ncmds; i++)
		cmd_clear(&s->cmds[i]);
	for (i = 0; i < s->nskips; i++) {
		free(s->skips[i].text);
		free(s->skips[i].why);
	}
	free(s->cmds);
	free(s->skips);
	free(s);
}

int accord_racf_parse(const char *text, size_t len, struct accord_racf_script **out,
		      struct accord_err *err)
{
	struct parser p;
	int r;

	*out = NULL;
	if (len > RACF_INPUT_MAX)
		return accord_err_set(err, -EFBIG,
				      "RACF command text is %zu bytes, more than the %u MiB allowed",
				      len, RACF_INPUT_MAX >> 20);
	memset(&p, 0, sizeof(p));
	p.s = calloc(1, sizeof(*p.s));
	p.buf = malloc(RACF_CMD_MAX + 1);
	p.work = malloc(RACF_CMD_MAX + 1);
	if (!p.s || !p.buf || !p.work)
		r = -ENOMEM;
	else
		r = scan(&p, text ? text : "", text ? len : 0);
	free(p.buf);
	free(p.work);
	if (r < 0) {
		accord_racf_free(p.s);
		return accord_err_set(err, r, "out of memory reading RACF command text");
	}
	*out = p.s;
	return 0;
}
