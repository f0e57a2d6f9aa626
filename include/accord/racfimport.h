/* SPDX-License-Identifier: MIT */
/*
 * Reading RACF command text as written for TSO (a CLIST, a REXX exec's
 * commands, a batch TSO job's SYSTSIN): the RACDCERT MAP commands and the
 * DIGTCRIT profiles they use, for `accordctl certmap import-racf`.
 *
 * TSO rules undone here: keywords and operands are case-insensitive
 * (filter values are kept as written); a line ending in '-' continues on
 * the next line with its leading blanks kept, one ending in '+' with them
 * dropped; comments are slash-star to star-slash (also spanning lines);
 * a quoted string is 'text' with '' for one apostrophe; keyword
 * abbreviations RACF accepts (SDNFILTER/SDNFILTR?, WITHLABEL) are
 * documented in racfimport.c.  Sequence numbers in columns 73-80 of
 * 80-column records are NOT stripped (text files rarely have them).
 *
 * Everything else (other commands, unknown keywords, a MAP(dsn) that names
 * a data set) is reported as skipped with its line and reason: the
 * importer never guesses.
 */
#ifndef ACCORD_RACFIMPORT_H
#define ACCORD_RACFIMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <accord/error.h>

enum accord_racf_kind {
	ACCORD_RACF_MAP,   /* RACDCERT ID(x)|MULTIID MAP ... */
	ACCORD_RACF_CRIT,  /* RDEFINE DIGTCRIT name APPLDATA('user') */
};

struct accord_racf_cmd {
	enum accord_racf_kind kind;
	unsigned line;         /* first line of the command, from 1 */
	/* MAP */
	char *id;              /* ID(x) as written (upper case), NULL: MULTIID
				  (or no ID(): RACF's default is the issuer of
				  the command; reported as skipped instead) */
	bool multiid;
	char *sdn, *idn;       /* NULL when absent; quotes and '' undone */
	char *label;           /* WITHLABEL, NULL when absent */
	char *criteria;        /* CRITERIA(...), NULL when absent */
	bool notrust;          /* NOTRUST given (TRUST is the default) */
	/* CRIT */
	char *crit_name;       /* "APPLID=EROYAL" */
	char *crit_user;       /* APPLDATA('ROYALID') */
};

struct accord_racf_skip {
	unsigned line;
	char *text;            /* the command (first 120 bytes) */
	char *why;             /* "not a RACDCERT MAP or RDEFINE DIGTCRIT command",
				  "MAP(data set) needs the certificate: use
				  certmap add --from-cert", "unknown keyword XYZ",
				  "unbalanced quote", ... */
};

struct accord_racf_script {
	struct accord_racf_cmd *cmds;
	size_t ncmds;
	struct accord_racf_skip *skips;
	size_t nskips;
};

/*
 * Parses text (len bytes, need not be NUL-terminated, may hold NULs: an
 * error).  Commands it cannot take are skips, not errors; errors are only
 * -ENOMEM and input larger than 16 MiB (-EFBIG).  *out malloc'd.
 */
int accord_racf_parse(const char *text, size_t len,
		      struct accord_racf_script **out, struct accord_err *err);
void accord_racf_free(struct accord_racf_script *s);

#endif
