/* SPDX-License-Identifier: MIT */
/* RACF command text import (common/racfimport.c): IBM's examples, TSO's
 * continuation, comment and quoting rules, every skip reason, line
 * numbers, limits, and -ENOMEM without leaks at every allocation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <accord/racfimport.h>

/* ---- allocation failure injection (ld --wrap, see meson.build) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long alloc_left = -1;  /* -1: never fail; else fail when it hits 0 */

static int alloc_fails(void)
{
	if (alloc_left < 0)
		return 0;
	return alloc_left-- == 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return alloc_fails() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

/* ---- helpers ---- */

/* what *out holds before a call: parse must overwrite it */
static struct accord_racf_script sentinel;

static struct accord_racf_script *parse_n(const char *t, size_t n)
{
	struct accord_racf_script *s = &sentinel;
	struct accord_err err = { 0 };

	assert_int_equal(accord_racf_parse(t, n, &s, &err), 0);
	assert_non_null(s);
	assert_int_equal(err.code, 0);
	return s;
}

static struct accord_racf_script *parse(const char *t)
{
	return parse_n(t, strlen(t));
}

static void print_script(const struct accord_racf_script *s)
{
	size_t i;

	for (i = 0; i < s->nskips; i++)
		print_message("skip %u: %s [%s]\n", s->skips[i].line, s->skips[i].why,
			      s->skips[i].text);
}

/* Exactly one MAP command and no skip. */
static struct accord_racf_script *one_map(const char *t)
{
	struct accord_racf_script *s = parse(t);

	if (s->ncmds != 1 || s->nskips != 0)
		print_script(s);
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 1);
	assert_int_equal(s->cmds[0].kind, ACCORD_RACF_MAP);
	return s;
}

/* Exactly one skip, whose reason contains why; no command. */
static void one_skip(const char *t, const char *why)
{
	struct accord_racf_script *s = parse(t);

	if (s->nskips != 1 || s->ncmds != 0 || !strstr(s->skips[0].why, why)) {
		print_message("input: %s\nwant: %s\n", t, why);
		print_script(s);
	}
	assert_int_equal(s->ncmds, 0);
	assert_int_equal(s->nskips, 1);
	assert_non_null(strstr(s->skips[0].why, why));
	assert_int_equal(s->skips[0].line, 1);
	assert_non_null(s->skips[0].text);
	accord_racf_free(s);
}

#define NOT_OURS "not a RACDCERT MAP or RDEFINE DIGTCRIT command"
#define SETROPTS_WHY "SETROPTS: accord publishes every change at once; nothing to do"

/* ---- IBM's examples ---- */

static void test_ibm_adcdd(void **state)
{
	struct accord_racf_script *s = one_map(
		"RACDCERT ID(ADCDD) MAP SDNFILTER('CN=adcdd.O=cpwebuser.C=GB') WITHLABEL('adcdd')\n");
	const struct accord_racf_cmd *c = &s->cmds[0];

	(void)state;
	assert_int_equal(c->line, 1);
	assert_string_equal(c->id, "ADCDD");
	assert_false(c->multiid);
	assert_string_equal(c->sdn, "CN=adcdd.O=cpwebuser.C=GB");
	assert_null(c->idn);
	assert_string_equal(c->label, "adcdd");
	assert_null(c->criteria);
	assert_false(c->notrust);
	assert_null(c->crit_name);
	assert_null(c->crit_user);
	accord_racf_free(s);
}

static void test_ibm_michaels_music(void **state)
{
	static const char t[] =
		"RACDCERT MULTIID MAP WITHLABEL('All Michael''s Music Employees') "
		"IDNFILTER('OU=Michael''s Music General Subscriber.O=VeriSign, Inc.L=Internet') "
		"CRITERIA(APPLID=&APPLID)\n"
		"RDEFINE DIGTCRIT APPLID=EROYAL APPLDATA('ROYALID')\n"
		"RDEFINE DIGTCRIT APPLID=EINV APPLDATA(INVID)\n"
		"SETROPTS RACLIST(DIGTNMAP, DIGTCRIT) REFRESH\n";
	struct accord_racf_script *s = parse(t);
	const struct accord_racf_cmd *c;

	(void)state;
	assert_int_equal(s->ncmds, 3);
	assert_int_equal(s->nskips, 1);
	c = &s->cmds[0];
	assert_int_equal(c->kind, ACCORD_RACF_MAP);
	assert_int_equal(c->line, 1);
	assert_null(c->id);
	assert_true(c->multiid);
	assert_string_equal(c->label, "All Michael's Music Employees");
	assert_string_equal(c->idn,
			    "OU=Michael's Music General Subscriber.O=VeriSign, Inc.L=Internet");
	assert_null(c->sdn);
	assert_string_equal(c->criteria, "APPLID=&APPLID");
	assert_false(c->notrust);
	c = &s->cmds[1];
	assert_int_equal(c->kind, ACCORD_RACF_CRIT);
	assert_int_equal(c->line, 2);
	assert_string_equal(c->crit_name, "APPLID=EROYAL");
	assert_string_equal(c->crit_user, "ROYALID");
	assert_null(c->id);
	assert_null(c->label);
	c = &s->cmds[2];
	assert_int_equal(c->kind, ACCORD_RACF_CRIT);
	assert_int_equal(c->line, 3);
	assert_string_equal(c->crit_name, "APPLID=EINV");
	assert_string_equal(c->crit_user, "INVID");
	assert_int_equal(s->skips[0].line, 4);
	assert_string_equal(s->skips[0].why, SETROPTS_WHY);
	assert_string_equal(s->skips[0].text, "SETROPTS RACLIST(DIGTNMAP, DIGTCRIT) REFRESH");
	accord_racf_free(s);
}

/* ---- TSO text rules ---- */

static void test_continuation_minus(void **state)
{
	/* '-' keeps the next line's leading blanks, and the blanks before
	 * it; blanks (and a tab) after it are ignored */
	struct accord_racf_script *s = one_map(
		"RACDCERT ID(ADCDD) MAP -\n"
		"   SDNFILTER('CN=a -\n"
		"  b.O=x') - \t \n"
		" WITHLABEL('l')\n");
	const struct accord_racf_cmd *c = &s->cmds[0];

	(void)state;
	assert_int_equal(c->line, 1);
	assert_string_equal(c->sdn, "CN=a   b.O=x");
	assert_string_equal(c->label, "l");
	accord_racf_free(s);
}

static void test_continuation_plus(void **state)
{
	struct accord_racf_script *s = parse(
		"RACDCERT ID(ADCDD) MAP +\n"
		"      SDNFILTER('CN=ad+   \n"
		"            cdd.O=cpwebuser.C=GB') WITH+\n"
		"    LABEL('x')\n"
		/* a '+' with no blank before it joins the words: MAPSDNFILTER */
		"RACDCERT ID(B) MAP+\n"
		"   SDNFILTER('CN=b')\n"
		/* a '-' or '+' not last on the line continues nothing */
		"RACDCERT ID(C) MAP SDNFILTER('CN=c-d+e') WITHLABEL('-')\n");

	(void)state;
	assert_int_equal(s->ncmds, 2);
	assert_int_equal(s->nskips, 1);
	assert_string_equal(s->cmds[0].sdn, "CN=adcdd.O=cpwebuser.C=GB");
	assert_string_equal(s->cmds[0].label, "x");
	assert_int_equal(s->cmds[0].line, 1);
	assert_int_equal(s->skips[0].line, 5);
	assert_string_equal(s->skips[0].why, NOT_OURS);
	assert_string_equal(s->skips[0].text, "RACDCERT ID(B) MAPSDNFILTER('CN=b')");
	assert_int_equal(s->cmds[1].line, 7);
	assert_string_equal(s->cmds[1].sdn, "CN=c-d+e");
	assert_string_equal(s->cmds[1].label, "-");
	accord_racf_free(s);
}

static void test_continuation_end(void **state)
{
	/* a continuation into an empty line, and one at the end of the
	 * text, end the command */
	struct accord_racf_script *s = parse(
		"RACDCERT ID(A) MAP SDNFILTER('CN=a') -\n"
		"\n"
		"RACDCERT ID(B) MAP SDNFILTER('CN=b') +");

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 2);
	assert_string_equal(s->cmds[0].id, "A");
	assert_int_equal(s->cmds[0].line, 1);
	assert_string_equal(s->cmds[1].id, "B");
	assert_int_equal(s->cmds[1].line, 3);
	accord_racf_free(s);
}

static void test_comments(void **state)
{
	struct accord_racf_script *s = parse(
		"/* Certificate name filters for the web servers,\n"
		"   written 2024 */\n"
		"RACDCERT ID(A) /* who */ MAP SDNFILTER('CN=/*x*/.O=y') -  /* more */\n"
		"   WITHLABEL('a')/* the label */\n"
		"RACDCERT ID(B)/*\n"
		"  a comment that spans lines joins them\n"
		"*/MAP IDNFILTER('O=CA')\n"
		"   /* only a comment */   \n"
		"RACDCERT ID(C) MAP SDNFILTER('CN=c') /* it's an apostrophe */\n");

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 3);
	assert_int_equal(s->cmds[0].line, 3);
	assert_string_equal(s->cmds[0].sdn, "CN=/*x*/.O=y");
	assert_string_equal(s->cmds[0].label, "a");
	assert_int_equal(s->cmds[1].line, 5);
	assert_string_equal(s->cmds[1].id, "B");
	assert_string_equal(s->cmds[1].idn, "O=CA");
	assert_int_equal(s->cmds[2].line, 9);
	assert_string_equal(s->cmds[2].sdn, "CN=c");
	accord_racf_free(s);
}

static void test_comment_not_closed(void **state)
{
	struct accord_racf_script *s = parse(
		"RACDCERT ID(A) MAP SDNFILTER('CN=a')\n"
		"\n"
		"/* forgotten\n"
		"RACDCERT ID(B) MAP SDNFILTER('CN=b')\n");

	(void)state;
	assert_int_equal(s->ncmds, 1);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(s->skips[0].line, 3);
	assert_string_equal(s->skips[0].why, "comment opened on line 3 is not closed");
	assert_string_equal(s->skips[0].text, "/* forgotten");
	accord_racf_free(s);

	/* inside a command: the command is named, at its own line */
	s = parse("\nRACDCERT ID(A) MAP -\n SDNFILTER('CN=a') /* open");
	assert_int_equal(s->ncmds, 0);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(s->skips[0].line, 2);
	assert_string_equal(s->skips[0].why, "comment opened on line 3 is not closed");
	assert_string_equal(s->skips[0].text, "RACDCERT ID(A) MAP  SDNFILTER('CN=a')");
	accord_racf_free(s);
}

static void test_quotes(void **state)
{
	struct accord_racf_script *s = parse(
		"RACDCERT ID(A) MAP SDNFILTER('CN=O''Brien.O=x') WITHLABEL('''')\n"
		"RACDCERT ID( 'b' ) MAP SDNFILTER( 'CN=b , c' ) WITHLABEL(  plain  )\n"
		"RACDCERT ID(C) MAP SDNFILTER('CN=it''''s') WITHLABEL('a (b)')\n");

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 3);
	assert_string_equal(s->cmds[0].sdn, "CN=O'Brien.O=x");
	assert_string_equal(s->cmds[0].label, "'");
	assert_string_equal(s->cmds[1].id, "B");
	assert_string_equal(s->cmds[1].sdn, "CN=b , c");
	assert_string_equal(s->cmds[1].label, "plain");
	assert_string_equal(s->cmds[2].sdn, "CN=it''s");
	assert_string_equal(s->cmds[2].label, "a (b)");
	accord_racf_free(s);
}

static void test_trust(void **state)
{
	struct accord_racf_script *s = parse(
		"RACDCERT ID(A) MAP SDNFILTER('CN=a') NOTRUST\n"
		"RACDCERT ID(A) MAP SDNFILTER('CN=b') TRUST\n"
		"RACDCERT NOTRUST SDNFILTER('CN=c') MAP ID(A)\n");

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 3);
	assert_true(s->cmds[0].notrust);
	assert_false(s->cmds[1].notrust);
	assert_true(s->cmds[2].notrust);
	assert_string_equal(s->cmds[2].id, "A");
	accord_racf_free(s);
}

static void test_lower_case_and_commas(void **state)
{
	struct accord_racf_script *s = parse(
		"racdcert map,id(adcdd),sdnfilter('CN=Ad,Cdd.O=x'),withlabel('Mixed Case'),notrust\n"
		"RaCdCeRt MultiId Map IdnFilter('O=ca') Criteria(SYSID=&SYSID)\n"
		"rdef digtcrit applid=eroyal appldata(royalid) uacc(none)\n");
	const struct accord_racf_cmd *c;

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 3);
	c = &s->cmds[0];
	assert_string_equal(c->id, "ADCDD");
	assert_string_equal(c->sdn, "CN=Ad,Cdd.O=x");
	assert_string_equal(c->label, "Mixed Case");
	assert_true(c->notrust);
	c = &s->cmds[1];
	assert_true(c->multiid);
	assert_string_equal(c->idn, "O=ca");
	assert_string_equal(c->criteria, "SYSID=&SYSID");
	c = &s->cmds[2];
	assert_int_equal(c->kind, ACCORD_RACF_CRIT);
	assert_string_equal(c->crit_name, "applid=eroyal");
	assert_string_equal(c->crit_user, "ROYALID");
	accord_racf_free(s);
}

static void test_rdefine_forms(void **state)
{
	struct accord_racf_script *s = parse(
		"RDEFINE DIGTCRIT (SYSID=SYSA.ENCRLVL=*) APPLDATA('LOWID') UACC(NONE) -\n"
		"   OWNER(SYS1) DATA('web servers, low encryption')\n"
		"RDEF DIGTCRIT SERVICE=sshd.HOST=web1 APPLDATA(webadm)\n");

	(void)state;
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 2);
	assert_string_equal(s->cmds[0].crit_name, "SYSID=SYSA.ENCRLVL=*");
	assert_string_equal(s->cmds[0].crit_user, "LOWID");
	assert_int_equal(s->cmds[0].line, 1);
	assert_string_equal(s->cmds[1].crit_name, "SERVICE=sshd.HOST=web1");
	assert_string_equal(s->cmds[1].crit_user, "WEBADM");
	assert_int_equal(s->cmds[1].line, 3);
	accord_racf_free(s);
}

static void test_crlf(void **state)
{
	struct accord_racf_script *s = parse(
		"/* from a PC */\r\n"
		"RACDCERT ID(A) MAP -\r\n"
		"  SDNFILTER('CN=a.O=b') +\r\n"
		"  WITHLABEL('crlf')\r\n"
		"\r\n"
		"RDEFINE DIGTCRIT APPLID=X APPLDATA('XID')\r\n"
		"SETROPTS RACLIST(DIGTCRIT) REFRESH\r\n");

	(void)state;
	assert_int_equal(s->ncmds, 2);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(s->cmds[0].line, 2);
	assert_string_equal(s->cmds[0].sdn, "CN=a.O=b");
	assert_string_equal(s->cmds[0].label, "crlf");
	assert_int_equal(s->cmds[1].line, 6);
	assert_string_equal(s->cmds[1].crit_user, "XID");
	assert_int_equal(s->skips[0].line, 7);
	assert_string_equal(s->skips[0].why, SETROPTS_WHY);
	assert_string_equal(s->skips[0].text, "SETROPTS RACLIST(DIGTCRIT) REFRESH");
	accord_racf_free(s);

	/* a lone CR inside a line is not a line end: the keyword is unknown */
	one_skip("RACDCERT ID(A) MAP SDNFILTER('CN=a') X\rY", "unknown keyword X?Y");
}

static void test_line_numbers(void **state)
{
	struct accord_racf_script *s = parse(
		"\n"                                            /* 1 */
		"  \t\n"                                        /* 2 */
		"LISTUSER ADCDD\n"                              /* 3 */
		"RACDCERT ID(A) -\n"                            /* 4 */
		"  MAP -\n"                                     /* 5 */
		"  SDNFILTER('CN=a')\n"                         /* 6 */
		"/* one\n"                                      /* 7 */
		"   two */ RACDCERT ID(B) MAP IDNFILTER('O=b')\n" /* 8 */
		"RACDCERT ID(C) MAP\n"                          /* 9 */
		"\n"                                            /* 10 */
		"  SETR LIST\n");                               /* 11 */

	(void)state;
	assert_int_equal(s->ncmds, 2);
	assert_int_equal(s->cmds[0].line, 4);
	assert_int_equal(s->cmds[1].line, 8);
	assert_int_equal(s->nskips, 3);
	assert_int_equal(s->skips[0].line, 3);
	assert_string_equal(s->skips[0].why, NOT_OURS);
	assert_string_equal(s->skips[0].text, "LISTUSER ADCDD");
	assert_int_equal(s->skips[1].line, 9);
	assert_string_equal(s->skips[1].why,
			    "neither SDNFILTER nor IDNFILTER: MAP needs at least one");
	assert_int_equal(s->skips[2].line, 11);
	assert_string_equal(s->skips[2].why, SETROPTS_WHY);
	accord_racf_free(s);
}

/* ---- every skip reason ---- */

static void test_skip_reasons(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		/* not ours */
		{ "LISTUSER ADCDD", NOT_OURS },
		{ "RACDCERT LISTMAP ID(ADCDD)", NOT_OURS },
		{ "RACDCERT ID(ADCDD) DELMAP(LABEL('adcdd'))", NOT_OURS },
		{ "RDEFINE FACILITY IRR.DIGTCERT.MAP UACC(NONE)", NOT_OURS },
		{ "RDEFINE", NOT_OURS },
		{ "RACDCERTX ID(A) MAP SDNFILTER('CN=a')", NOT_OURS },
		{ "'RACDCERT' ID(A) MAP", NOT_OURS },
		{ "SETROPTS CLASSACT(DIGTNMAP) RACLIST(DIGTNMAP)", SETROPTS_WHY },
		{ "setr raclist(digtnmap) refresh", SETROPTS_WHY },
		{ "SETROPTS 'unbalanced", SETROPTS_WHY },
		/* MAP's semantics */
		{ "RACDCERT ID(A) MAP('USER.CERT') SDNFILTER('OU=x')",
		  "MAP(data set) needs the certificate: use certmap add --from-cert" },
		{ "RACDCERT ID(A) MULTIID MAP SDNFILTER('CN=a') CRITERIA(X=&X)",
		  "ID(...) and MULTIID exclude each other" },
		{ "RACDCERT MAP SDNFILTER('CN=a')", "neither ID(userid) nor MULTIID" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') TRUST NOTRUST", "both TRUST and NOTRUST" },
		{ "RACDCERT ID(A) MAP WITHLABEL('x')", "neither SDNFILTER nor IDNFILTER" },
		{ "RACDCERT ID(A) MAP SDNFILTER('')", "empty SDNFILTER" },
		{ "RACDCERT ID(A) MAP IDNFILTER( '' )", "empty IDNFILTER" },
		{ "RACDCERT ID(A) MAP SDNFILTER()", "empty SDNFILTER" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') WITHLABEL('')", "empty WITHLABEL" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') WITHLABEL('123456789012345678901234567890123')",
		  "WITHLABEL longer than 32 characters" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') CRITERIA(APPLID=&APPLID)",
		  "CRITERIA is only valid with MULTIID" },
		{ "RACDCERT MULTIID MAP IDNFILTER('O=a')", "MULTIID without CRITERIA" },
		{ "RACDCERT MULTIID MAP IDNFILTER('O=a') CRITERIA('')", "empty CRITERIA" },
		{ "RACDCERT ID(TOOLONGID) MAP SDNFILTER('CN=a')",
		  "ID(TOOLONGID) is longer than 8 characters" },
		{ "RACDCERT ID(A.B) MAP SDNFILTER('CN=a')",
		  "ID(A.B) has a character RACF does not allow" },
		{ "RACDCERT ID('') MAP SDNFILTER('CN=a')", "ID() is empty" },
		/* keywords */
		{ "RACDCERT ID(A) MAP SDNFILTR('CN=a')", "unknown keyword SDNFILTR" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') LABEL('x')", "unknown keyword LABEL" },
		{ "RACDCERT ID(A) MAP SDN('CN=a')", "unknown keyword SDN" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') SDNFILTER('CN=b')",
		  "duplicate keyword SDNFILTER" },
		{ "RACDCERT ID(A) ID(B) MAP SDNFILTER('CN=a')", "duplicate keyword ID" },
		{ "RACDCERT ID(A) MAP MAP SDNFILTER('CN=a')", "duplicate keyword MAP" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') NOTRUST NOTRUST",
		  "duplicate keyword NOTRUST" },
		{ "RACDCERT MULTIID MULTIID MAP IDNFILTER('O=a') CRITERIA(X)",
		  "duplicate keyword MULTIID" },
		{ "RACDCERT ID MAP SDNFILTER('CN=a')", "ID needs a value: ID(...)" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a') TRUST(YES)", "TRUST takes no value" },
		{ "RACDCERT MULTIID(X) MAP IDNFILTER('O=a') CRITERIA(X)", "MULTIID takes no value" },
		{ "RACDCERT ID(A) MAP (X) SDNFILTER('CN=a')", "operand (X) without a keyword" },
		{ "RACDCERT(A) ID(A) MAP SDNFILTER('CN=a')", "(...) right after RACDCERT" },
		/* syntax */
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a)", "unbalanced quote in SDNFILTER(...)" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a'", "unbalanced parentheses in SDNFILTER(...)" },
		{ "RACDCERT ID(A MAP SDNFILTER", "unbalanced parentheses in ID(...)" },
		{ "RACDCERT ID(A) ) MAP SDNFILTER('CN=a')",
		  "unbalanced parentheses: ')' without '('" },
		{ "RACDCERT ID(A)) MAP SDNFILTER('CN=a')",
		  "unbalanced parentheses: ')' after ID(...)" },
		{ "RACDCERT ID(A) MAP) SDNFILTER('CN=a')", "unbalanced parentheses: ')' after MAP" },
		{ "RACDCERT ID(A) MAP SDNFILTER('CN=a'x)",
		  "text after the quoted string in SDNFILTER(...)" },
		{ "RACDCERT ID(A) MAP SDNFILTER(CN=O'Brien)",
		  "apostrophe inside the unquoted value of SDNFILTER(...)" },
		{ "RACDCERT ID(A) MAP SDNFILTER'CN=a'", "apostrophe right after SDNFILTER" },
		{ "RACDCERT ID(A) MAP 'CN=a'", "quoted string without a keyword" },
		{ "RACDCERT ID(A B) MAP SDNFILTER('CN=a')", "more than one value in ID(...)" },
		{ "RACDCERT ID(A,B) MAP SDNFILTER('CN=a')", "more than one value in ID(...)" },
		{ "RACDCERT ID(A)MAP SDNFILTER('CN=a')", "no blank or comma after ID(...)" },
		/* RDEFINE DIGTCRIT */
		{ "RDEFINE DIGTCRIT APPLID=X", "RDEFINE DIGTCRIT without APPLDATA" },
		{ "RDEFINE DIGTCRIT APPLDATA('X')", "RDEFINE DIGTCRIT without a profile name" },
		{ "RDEFINE DIGTCRIT", "RDEFINE DIGTCRIT without a profile name" },
		{ "RDEFINE DIGTCRIT ()  APPLDATA('X')", "empty profile name" },
		{ "RDEFINE DIGTCRIT (A B) APPLDATA('X')", "more than one value in (...)" },
		{ "RDEFINE DIGTCRIT(A) APPLDATA('X')", "DIGTCRIT takes no value" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') NOTIFY(ADMIN)", "unknown keyword NOTIFY" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') WARNING", "unknown keyword WARNING" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') (Y)", "operand (Y) without a keyword" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') APPLDATA('Y')",
		  "duplicate keyword APPLDATA" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') UACC(NONE) UACC(READ)",
		  "duplicate keyword UACC" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('X') OWNER", "OWNER needs a value" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA", "APPLDATA needs a value" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('')", "APPLDATA() is empty" },
		{ "RDEFINE DIGTCRIT APPLID=X APPLDATA('NOT USR')",
		  "APPLDATA(NOT USR) has a character RACF does not allow" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one_skip(cases[i].in, cases[i].why);
}

static void test_lengths(void **state)
{
	char big[600], t[800];
	struct accord_racf_script *s;

	(void)state;
	/* 32 characters of label; 32 two-byte characters too */
	s = one_map("RACDCERT ID(A) MAP SDNFILTER('CN=a') "
		    "WITHLABEL('12345678901234567890123456789012')");
	assert_int_equal(strlen(s->cmds[0].label), 32);
	accord_racf_free(s);
	s = one_map("RACDCERT ID(A) MAP SDNFILTER('CN=a') WITHLABEL('"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9')");
	assert_int_equal(strlen(s->cmds[0].label), 64);
	accord_racf_free(s);

	/* filters: 255 characters, not 256 (RACF's IRRD142I) */
	memset(big, 'x', sizeof(big));
	memcpy(big, "CN=", 3);
	big[255] = '\0';
	snprintf(t, sizeof(t), "RACDCERT ID(A) MAP SDNFILTER('%s')", big);
	s = one_map(t);
	assert_int_equal(strlen(s->cmds[0].sdn), 255);
	accord_racf_free(s);
	big[255] = 'x';
	big[256] = '\0';
	snprintf(t, sizeof(t), "RACDCERT ID(A) MAP IDNFILTER('%s')", big);
	one_skip(t, "IDNFILTER longer than 255 characters");
	snprintf(t, sizeof(t), "RACDCERT MULTIID MAP IDNFILTER('O=a') CRITERIA('%s')", big);
	one_skip(t, "CRITERIA longer than 255 characters");
	/* DIGTCRIT profile names: 246 */
	big[246] = '\0';
	snprintf(t, sizeof(t), "RDEFINE DIGTCRIT %s APPLDATA(A)", big);
	s = parse(t);
	assert_int_equal(s->ncmds, 1);
	assert_int_equal(strlen(s->cmds[0].crit_name), 246);
	accord_racf_free(s);
	big[246] = 'x';
	big[247] = '\0';
	snprintf(t, sizeof(t), "RDEFINE DIGTCRIT %s APPLDATA(A)", big);
	one_skip(t, "profile name longer than 246 characters");

	/* 31 operands after the verb; not 32 */
	snprintf(t, sizeof(t), "RACDCERT ID(A) MAP SDNFILTER('CN=a')%s",
		 " UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC"
		 " UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC UACC");
	one_skip(t, "unknown keyword UACC");
	strcat(t, " UACC");
	one_skip(t, "more than 31 operands");
}

static void test_skip_text(void **state)
{
	char t[400];
	struct accord_racf_script *s;

	(void)state;
	/* the joined command, blanks trimmed, first 120 bytes, controls as '?' */
	memset(t, 0, sizeof(t));
	strcpy(t, "   LISTUSER \x1b[31m -\n    ");
	memset(t + strlen(t), 'A', 200);
	s = parse(t);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(strlen(s->skips[0].text), 120);
	assert_memory_equal(s->skips[0].text, "LISTUSER ?[31m     AAAA", 23);
	accord_racf_free(s);
	/* not cut inside a UTF-8 sequence */
	memset(t, 0, sizeof(t));
	memset(t, 'B', 119);
	strcat(t, "\xc3\xa9 tail");
	s = parse(t);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(strlen(s->skips[0].text), 119);
	accord_racf_free(s);
	/* reasons are sanitized too */
	one_skip("RACDCERT ID(A) MAP X\x01Y", "unknown keyword X?Y");
}

static void test_nul(void **state)
{
	static const char t[] =
		"RACDCERT ID(A) MAP SDNFILTER('CN=a')\n"
		"RACDCERT ID(B) MAP SDNFILTER('CN=\0b')\n"
		"/* a NUL \0 in a comment */\n"
		"RACDCERT ID(C) MAP -\n"
		"\0\n"
		"RACDCERT ID(D) MAP SDNFILTER('CN=d')";
	struct accord_racf_script *s = parse_n(t, sizeof(t) - 1);

	(void)state;
	assert_int_equal(s->ncmds, 2);
	assert_string_equal(s->cmds[0].id, "A");
	assert_string_equal(s->cmds[1].id, "D");
	assert_int_equal(s->cmds[1].line, 6);
	assert_int_equal(s->nskips, 3);
	assert_int_equal(s->skips[0].line, 2);
	assert_string_equal(s->skips[0].why, "NUL byte in the command");
	assert_string_equal(s->skips[0].text, "RACDCERT ID(B) MAP SDNFILTER('CN=?b')");
	assert_int_equal(s->skips[1].line, 3);
	assert_string_equal(s->skips[1].why, "NUL byte in a comment or blank line");
	assert_string_equal(s->skips[1].text, "");
	assert_int_equal(s->skips[2].line, 4);
	assert_string_equal(s->skips[2].why, "NUL byte in the command");
	assert_string_equal(s->skips[2].text, "RACDCERT ID(C) MAP ?");
	accord_racf_free(s);
}

static void test_empty(void **state)
{
	struct accord_racf_script *s;

	(void)state;
	s = parse_n(NULL, 0);
	assert_int_equal(s->ncmds, 0);
	assert_int_equal(s->nskips, 0);
	assert_null(s->cmds);
	assert_null(s->skips);
	accord_racf_free(s);
	s = parse(" \n\t\r\n/* nothing */\n   -\n\n");
	assert_int_equal(s->ncmds, 0);
	assert_int_equal(s->nskips, 0);
	accord_racf_free(s);
	accord_racf_free(NULL);
}

static void test_input_limit(void **state)
{
	const size_t max = 16u << 20;
	struct accord_racf_script *s = &sentinel;
	struct accord_err err = { 0 };
	char *t = malloc(max + 1);
	size_t off;

	(void)state;
	assert_non_null(t);
	memset(t, ' ', max + 1);
	for (size_t i = 79; i < max; i += 80)
		t[i] = '\n';
	/* at the start of the last full line */
	off = (max - 40) / 80 * 80;
	memcpy(t + off, "RDEF DIGTCRIT A APPLDATA(B)", 27);
	assert_int_equal(accord_racf_parse(t, max + 1, &s, &err), -EFBIG);
	assert_null(s);
	assert_int_equal(err.code, -EFBIG);
	assert_non_null(strstr(err.msg, "16 MiB"));
	s = parse_n(t, max);
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 1);
	assert_int_equal(s->cmds[0].line, off / 80 + 1);
	accord_racf_free(s);
	free(t);
}

static void test_command_limit(void **state)
{
	const size_t max = 64u << 10;
	static const char head[] = "RACDCERT ID(A) MAP SDNFILTER('CN=a') -\n";
	static const char tail[] = "\nRACDCERT ID(B) MAP SDNFILTER('CN=b')\n";
	size_t joined = sizeof(head) - 1 - 2; /* " -\n" -> " " */
	char *t = malloc(max + 200);
	struct accord_racf_script *s;
	size_t n;

	(void)state;
	assert_non_null(t);
	/* exactly 64 KiB once joined: taken */
	memcpy(t, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	memset(t + n, ' ', max - joined);
	n += max - joined;
	memcpy(t + n, tail, sizeof(tail) - 1);
	s = parse_n(t, n + sizeof(tail) - 1);
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 2);
	assert_int_equal(s->cmds[1].line, 3);
	accord_racf_free(s);
	/* one byte more: skipped, and the next command is still read */
	memcpy(t, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	memset(t + n, ' ', max - joined + 1);
	n += max - joined + 1;
	memcpy(t + n, tail, sizeof(tail) - 1);
	s = parse_n(t, n + sizeof(tail) - 1);
	assert_int_equal(s->nskips, 1);
	assert_int_equal(s->skips[0].line, 1);
	assert_string_equal(s->skips[0].why, "command longer than 65536 bytes");
	assert_string_equal(s->skips[0].text, "RACDCERT ID(A) MAP SDNFILTER('CN=a')");
	assert_int_equal(s->ncmds, 1);
	assert_string_equal(s->cmds[0].id, "B");
	assert_int_equal(s->cmds[0].line, 3);
	accord_racf_free(s);
	/* comments do not count */
	memcpy(t, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	t[n++] = '/';
	t[n++] = '*';
	memset(t + n, 'c', max);
	n += max;
	t[n++] = '*';
	t[n++] = '/';
	s = parse_n(t, n);
	assert_int_equal(s->nskips, 0);
	assert_int_equal(s->ncmds, 1);
	accord_racf_free(s);
	free(t);
}

/* Every allocation in turn fails: -ENOMEM, *out NULL, nothing leaked
 * (ASan's leak checker and valgrind see the rest). */
static void test_enomem(void **state)
{
	static const char t[] =
		"RACDCERT MULTIID MAP WITHLABEL('All Michael''s Music Employees') "
		"IDNFILTER('OU=Michael''s Music General Subscriber.O=VeriSign, Inc.L=Internet') "
		"CRITERIA(APPLID=&APPLID)\n"
		"RACDCERT ID(ADCDD) MAP SDNFILTER('CN=adcdd.O=cpwebuser.C=GB') IDNFILTER('O=ca') "
		"WITHLABEL('adcdd')\n"
		"RDEFINE DIGTCRIT APPLID=EROYAL APPLDATA('ROYALID')\n"
		"SETROPTS RACLIST(DIGTNMAP) REFRESH\n"
		"LISTUSER A\nLISTUSER B\nLISTUSER C\nLISTUSER D\nLISTUSER E\nLISTUSER F\n"
		"LISTUSER G\nLISTUSER H\nLISTUSER I\nLISTUSER J\nLISTUSER K\nLISTUSER L\n"
		"LISTUSER M\nLISTUSER N\nLISTUSER O\nLISTUSER P\nLISTUSER Q\n";
	struct accord_racf_script *s;
	struct accord_err err;
	long k;
	int r = -ENOMEM;

	(void)state;
	for (k = 0; r == -ENOMEM; k++) {
		memset(&err, 0, sizeof(err));
		s = &sentinel;
		alloc_left = k;
		r = accord_racf_parse(t, sizeof(t) - 1, &s, &err);
		alloc_left = -1;
		if (r == -ENOMEM) {
			assert_null(s);
			assert_int_equal(err.code, -ENOMEM);
			assert_true(err.msg[0] != '\0');
		} else {
			assert_int_equal(r, 0);
			assert_non_null(s);
			assert_int_equal(s->ncmds, 3);
			assert_int_equal(s->nskips, 18);
			accord_racf_free(s);
		}
		assert_true(k < 1000);
	}
	/* enough allocations to pass through every kind (arrays grown past
	 * 16 skips, all strings of a MAP and a CRIT) */
	assert_true(k > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ibm_adcdd),
		cmocka_unit_test(test_ibm_michaels_music),
		cmocka_unit_test(test_continuation_minus),
		cmocka_unit_test(test_continuation_plus),
		cmocka_unit_test(test_continuation_end),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_comment_not_closed),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_lower_case_and_commas),
		cmocka_unit_test(test_rdefine_forms),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_skip_reasons),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_skip_text),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_input_limit),
		cmocka_unit_test(test_command_limit),
		cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
