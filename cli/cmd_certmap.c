/* SPDX-License-Identifier: MIT */
/*
 * accordctl certmap add|list|show|alter|del|register|test|import-racf|criteria
 * (RACDCERT MAP, LISTMAP, ALTMAP, DELMAP, ADD, CHECKCERT's missing dry
 * run, DIGTCRIT), accordctl ca add|list|del|alter and accordctl crl
 * add|list (RACDCERT CERTAUTH).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <accord/certmap.h>
#include <accord/certverify.h>
#include <accord/jsonfmt.h>
#include <accord/racfimport.h>
#include <accord/state.h>

#include "cli.h"
#include "fileutil.h"

#define CERT_FILE_MAX (1u << 20)
#define RACF_FILE_MAX (16u << 20)

/* ---- input files ------------------------------------------------------ */

static int input_error(struct cli *c, const char *path, int r, const char *what)
{
	struct accord_err e = { 0 };

	accord_err_set(&e, r, "%s: %s", path, what ? what : strerror(-r));
	return fail(c, PH_INPUT, &e);
}

/* A certificate file (PEM or DER) as DER; *x keeps the parsed one when x
 * is not NULL. */
static int read_cert(struct cli *c, const char *path, unsigned char **der, size_t *len,
		     X509 **x)
{
	struct accord_err e = { 0 };
	unsigned char *p = NULL;
	char *data = NULL;
	size_t n = 0;
	X509 *cert;
	int r, l;

	r = fu_read_file(path, CERT_FILE_MAX, &data, &n);
	if (r < 0)
		return input_error(c, path, r, r == -EFBIG ? "larger than 1 MiB" : NULL);
	cert = accord_cert_load((const unsigned char *)data, n, &e);
	free(data);
	if (!cert) {
		accord_err_prefix(&e, e.code ? e.code : -EINVAL, "%s", path);
		return fail(c, PH_INPUT, &e);
	}
	l = i2d_X509(cert, &p);
	if (l <= 0) {
		X509_free(cert);
		return input_error(c, path, -EINVAL, "the certificate does not encode");
	}
	*der = malloc((size_t)l);
	if (*der)
		memcpy(*der, p, (size_t)l);
	OPENSSL_free(p);
	*len = (size_t)l;
	if (x)
		*x = cert;
	else
		X509_free(cert);
	return *der ? 0 : input_error(c, path, -ENOMEM, NULL);
}

static int read_crl(struct cli *c, const char *path, unsigned char **der, size_t *len)
{
	char *data = NULL;
	size_t n = 0;
	X509_CRL *crl = NULL;
	unsigned char *p = NULL;
	int r, l;

	r = fu_read_file(path, 1u << 20, &data, &n);
	if (r < 0)
		return input_error(c, path, r, r == -EFBIG ? "larger than 1 MiB" : NULL);
	if (n > 10 && strstr(data, "-----BEGIN X509 CRL-----")) {
		BIO *b = BIO_new_mem_buf(data, (int)n);

		crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
	} else {
		const unsigned char *q = (const unsigned char *)data;

		crl = d2i_X509_CRL(NULL, &q, (long)n);
	}
	free(data);
	if (!crl)
		return input_error(c, path, -EINVAL, "not a CRL (PEM or DER)");
	l = i2d_X509_CRL(crl, &p);
	X509_CRL_free(crl);
	if (l <= 0)
		return input_error(c, path, -EINVAL, "the CRL does not encode");
	*der = malloc((size_t)l);
	if (*der)
		memcpy(*der, p, (size_t)l);
	OPENSSL_free(p);
	*len = (size_t)l;
	return *der ? 0 : input_error(c, path, -ENOMEM, NULL);
}

/* ---- certmap add ------------------------------------------------------- */

struct map_args {
	struct accord_certmap_spec spec;
	struct accord_certmap_warn warn;
	const char *label, *user, *new_label, *name;
	int status;                     /* -1 unchanged */
	unsigned char *der;
	size_t len;
};

static int do_map_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certmap_add(st, &a->spec, &a->warn, e);
}

static int do_map_alter(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certmap_alter(st, a->label, a->user, a->new_label, a->status, e);
}

static int do_map_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certmap_del(st, a->label, a->user, e);
}

static int do_register(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certreg_add(st, a->der, a->len, a->user, a->spec.label,
				  a->status == ACCORD_MAP_NOTRUST, e);
}

enum {
	O_USER = 'u', O_MULTIID = 'm', O_CRIT = 'c', O_SDN = 's', O_IDN = 'i',
	O_LABEL = 'l', O_NOTRUST = 'N', O_TRUST = 'T', O_FROM = 'f', O_NEWLABEL = 'n',
	O_SERVICE = 'S', O_HOST = 'H', O_RHOST = 'R', O_TTY = 't', O_CHAIN = 'C',
	O_DRYRUN = 'd', O_HIGH = 'h', O_VAR = 'v',
};

static const struct option map_opts[] = {
	{ "user", required_argument, NULL, O_USER },
	{ "multiid", no_argument, NULL, O_MULTIID },
	{ "criteria", required_argument, NULL, O_CRIT },
	{ "sdn", required_argument, NULL, O_SDN },
	{ "idn", required_argument, NULL, O_IDN },
	{ "label", required_argument, NULL, O_LABEL },
	{ "notrust", no_argument, NULL, O_NOTRUST },
	{ "trust", no_argument, NULL, O_TRUST },
	{ "hightrust", no_argument, NULL, O_HIGH },
	{ "from-cert", required_argument, NULL, O_FROM },
	{ "new-label", required_argument, NULL, O_NEWLABEL },
	{ "service", required_argument, NULL, O_SERVICE },
	{ "host", required_argument, NULL, O_HOST },
	{ "rhost", required_argument, NULL, O_RHOST },
	{ "tty", required_argument, NULL, O_TTY },
	{ "var", required_argument, NULL, O_VAR },
	{ "chain", required_argument, NULL, O_CHAIN },
	{ "dry-run", no_argument, NULL, O_DRYRUN },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *v[128];
	bool set[128];
	const char *vars[16];
	size_t nvars;
	int nargs;
	char **args;
};

/* Parses the options `allowed` (their short letters); positional
 * arguments must number exactly nargs. */
static int parse_opts(int argc, char **argv, const char *what, const char *allowed,
		      int nargs, const char *argname, struct opts *o)
{
	int k, idx = 0;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((k = getopt_long(argc, argv, ":", map_opts, &idx)) != -1) {
		if (k == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		/* a known option's name from the table: optind is already past
		 * its value when that was a separate word */
		if (k == '?')
			return usage_error("%s: unknown option '%s'", what, argv[optind - 1]);
		if (!strchr(allowed, k))
			return usage_error("%s: unknown option '--%s'", what, map_opts[idx].name);
		if (k == O_VAR) {
			if (o->nvars == sizeof(o->vars) / sizeof(o->vars[0]) || !strchr(optarg, '='))
				return usage_error("%s: --var NAME=VALUE (at most 16)", what);
			o->vars[o->nvars++] = optarg;
			continue;
		}
		if (o->set[k])
			return usage_error("%s: '--%s' given twice", what, map_opts[idx].name);
		o->set[k] = true;
		o->v[k] = optarg;
	}
	if (argc - optind != nargs) {
		if (argc - optind < nargs)
			return usage_error("%s: %s is missing", what, argname);
		return usage_error("%s: unexpected argument '%s'", what, argv[optind + nargs]);
	}
	o->args = argv + optind;
	o->nargs = nargs;
	return 0;
}

static int map_add(struct cli *c, int argc, char **argv)
{
	struct map_args a = { 0 };
	struct write_result res;
	struct opts o;
	char op[512], msg[256];
	int r, i;

	r = parse_opts(argc, argv, "certmap add", "umcsilNf", 0, "", &o);
	if (r)
		return r;
	if (o.set[O_USER] == o.set[O_MULTIID])
		return usage_error("certmap add: give --user USER or --multiid --criteria T");
	if (o.set[O_MULTIID] != o.set[O_CRIT])
		return usage_error("certmap add: --multiid goes with --criteria");
	if (!o.set[O_SDN] && !o.set[O_IDN] && !o.set[O_FROM])
		return usage_error("certmap add: give --sdn, --idn or both (or --from-cert)");
	a.spec = (struct accord_certmap_spec){ o.v[O_LABEL], o.v[O_USER], o.set[O_MULTIID],
					       o.v[O_CRIT], o.v[O_SDN], o.v[O_IDN],
					       o.set[O_NOTRUST], NULL, 0 };
	if (o.set[O_FROM]) {
		r = read_cert(c, o.v[O_FROM], &a.der, &a.len, NULL);
		if (r)
			return r;
		a.spec.from_cert = a.der;
		a.spec.from_cert_len = a.len;
	}
	snprintf(op, sizeof(op), "certmap add %s%s%s%s%s", o.set[O_USER] ? "--user " : "--multiid",
		 o.set[O_USER] ? o.v[O_USER] : "", o.set[O_LABEL] ? " --label " : "",
		 o.set[O_LABEL] ? o.v[O_LABEL] : "", o.set[O_NOTRUST] ? " --notrust" : "");
	r = run_write(c, op, do_map_add, &a, &res);
	free(a.der);
	if (r)
		return r;
	for (i = 0; i < a.warn.n; i++)
		fprintf(stderr, "accordctl: warning: %s\n", a.warn.text[i]);
	snprintf(msg, sizeof(msg), "Added a %s certificate map for %s", o.set[O_NOTRUST] ?
		 "NOTRUST" : "TRUST", o.set[O_USER] ? o.v[O_USER] : "MULTIID");
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int map_alter(struct cli *c, int argc, char **argv)
{
	struct map_args a = { .status = -1 };
	struct write_result res;
	struct opts o;
	char op[256], msg[256];
	int r;

	r = parse_opts(argc, argv, "certmap alter", "unNT", 1, "the label", &o);
	if (r)
		return r;
	if (o.set[O_TRUST] && o.set[O_NOTRUST])
		return usage_error("certmap alter: --trust or --notrust, not both");
	if (!o.set[O_NEWLABEL] && !o.set[O_TRUST] && !o.set[O_NOTRUST])
		return usage_error("certmap alter: nothing to change (--new-label, --trust, "
				   "--notrust); filters cannot be changed: delete and add again");
	a.label = o.args[0];
	a.user = o.v[O_USER];
	a.new_label = o.v[O_NEWLABEL];
	if (o.set[O_TRUST] || o.set[O_NOTRUST])
		a.status = o.set[O_NOTRUST] ? ACCORD_MAP_NOTRUST : ACCORD_MAP_TRUST;
	snprintf(op, sizeof(op), "certmap alter %s", a.label);
	r = run_write(c, op, do_map_alter, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Changed certificate map %s", a.new_label ? a.new_label : a.label);
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int map_del(struct cli *c, int argc, char **argv)
{
	struct map_args a = { 0 };
	struct write_result res;
	struct opts o;
	char op[256], msg[256];
	int r;

	r = parse_opts(argc, argv, "certmap del", "u", 1, "the label", &o);
	if (r)
		return r;
	a.label = o.args[0];
	a.user = o.v[O_USER];
	snprintf(op, sizeof(op), "certmap del %s", a.label);
	r = run_write(c, op, do_map_del, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Deleted certificate map %s", a.label);
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int map_register(struct cli *c, int argc, char **argv)
{
	struct map_args a = { .status = ACCORD_MAP_TRUST };
	struct write_result res;
	struct opts o;
	char op[256], msg[256];
	int r;

	r = parse_opts(argc, argv, "certmap register", "ulN", 1, "the certificate file", &o);
	if (r)
		return r;
	if (!o.set[O_USER])
		return usage_error("certmap register: --user USER is required");
	a.user = o.v[O_USER];
	a.spec.label = o.v[O_LABEL];
	if (o.set[O_NOTRUST])
		a.status = ACCORD_MAP_NOTRUST;
	r = read_cert(c, o.args[0], &a.der, &a.len, NULL);
	if (r)
		return r;
	snprintf(op, sizeof(op), "certmap register --user %s%s", a.user,
		 o.set[O_NOTRUST] ? " --notrust" : "");
	r = run_write(c, op, do_register, &a, &res);
	free(a.der);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Registered the certificate to %s (%s): it maps before any "
		 "filter", a.user, o.set[O_NOTRUST] ? "NOTRUST: its logons are refused" : "TRUST");
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

/* ---- reading the current generation ---------------------------------- */

struct view {
	struct accord_snapshot snap;
	struct accord_certdb db;
};

static int open_view(struct cli *c, struct view *v)
{
	struct accord_err e = { 0 };
	const void *blob;
	size_t len;
	int r = read_current(c, &v->snap);

	if (r)
		return r;
	accord_snap_certdb(&v->snap, &blob, &len);
	if (accord_certdb_open(blob, len, &v->db, &e) < 0) {
		accord_snapshot_unmap(&v->snap);
		accord_err_prefix(&e, -EBADMSG, "run 'accordctl check'");
		return fail(c, PH_OPEN, &e);
	}
	return 0;
}

static void close_view(struct view *v)
{
	accord_snapshot_unmap(&v->snap);
}

static int two_forms(const char *text, char *racf, char *rfc, size_t cap)
{
	struct accord_dn *dn = NULL;
	int r = accord_dn_parse(text, ACCORD_DN_AUTO, 0, &dn, NULL);

	racf[0] = rfc[0] = 0;
	if (r == 0) {
		if (accord_dn_format(dn, ACCORD_DN_STYLE_RACF, racf, cap) < 0)
			racf[0] = 0;
		if (accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, rfc, cap) < 0)
			rfc[0] = 0;
	}
	accord_dn_free(dn);
	return r;
}

static void print_filter(const char *title, const char *text)
{
	char racf[2048], rfc[2048];

	printf(" %s:\n", title);
	if (!*text) {
		printf("      ><\n");
		return;
	}
	two_forms(text, racf, rfc, sizeof(racf));
	printf("      >%s<\n", racf[0] ? racf : text);
	if (rfc[0])
		printf("      (RFC 4514: %s)\n", rfc);
}

static void listmap(const struct accord_certdb_map *m)
{
	bool multi = !*m->user;

	printf("Mapping information for %s%s:\n", multi ? "" : "user ", multi ? "MULTIID" : m->user);
	printf(" Label: %s\n", m->label);
	printf(" Status: %s\n", m->status == ACCORD_MAP_NOTRUST ? "NOTRUST" : "TRUST");
	if (m->registered) {
		printf(" Registered certificate (above every filter):\n");
		printf("      Subject: %s\n      Issuer:  %s\n", m->sdn, m->idn);
	} else {
		print_filter("Issuer's Name Filter", m->idn);
		print_filter("Subject's Name Filter", m->sdn);
		if (multi)
			printf(" Criteria: %s\n", m->criteria);
	}
	printf("\n");
}

static int map_list_show(struct cli *c, int argc, char **argv, bool show)
{
	struct accord_certdb_map m;
	struct view v;
	struct opts o;
	json_object *arr = NULL;
	uint32_t cur = 0;
	int r, found = 0;

	r = parse_opts(argc, argv, show ? "certmap show" : "certmap list", "u", show ? 1 : 0,
		       "the label", &o);
	if (r)
		return r;
	r = open_view(c, &v);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array();
	while ((r = accord_certdb_map_next(&v.db, &cur, &m)) == 0) {
		const char *owner = *m.user ? m.user : "MULTIID";

		if (o.set[O_USER] && strcmp(o.v[O_USER], owner))
			continue;
		if (show && strcmp(o.args[0], m.label))
			continue;
		found++;
		if (arr)
			json_object_array_add(arr, accord_json_certmap(m.label, m.user, m.criteria,
								       m.sdn, m.idn, m.status,
								       m.registered));
		else
			listmap(&m);
	}
	close_view(&v);
	if (r != -ENOENT) {
		json_object_put(arr);
		return fail(c, PH_OPEN, &(struct accord_err){ -EBADMSG,
			    "the certificate section is damaged; run 'accordctl check'" });
	}
	if (show && !found) {
		json_object_put(arr);
		return fail(c, PH_OP, &(struct accord_err){ -ENOENT,
			    "no certificate map with that label" });
	}
	if (show && found > 1 && !o.set[O_USER] && !arr)
		fprintf(stderr, "accordctl: note: %d maps carry this label; --user picks one\n",
			found);
	if (arr)
		print_json(arr);
	else if (!found)
		printf("No certificate maps%s.\n", o.set[O_USER] ? " for this user" : "");
	return 0;
}

/* ---- certmap test ----------------------------------------------------- */

struct probe_print {
	json_object *arr;
	int n;
};

static void on_probe(const struct accord_map_probe *p, void *ctx)
{
	struct probe_print *pp = ctx;
	char key[512];
	size_t i;

	/* the key separates subject and issuer with 0x1f: show " | " */
	snprintf(key, sizeof(key), "%s", p->key);
	for (i = 0; key[i]; i++)
		if (key[i] == '\x1f')
			key[i] = '|';
	pp->n++;
	if (pp->arr) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "step", json_object_new_int(p->step));
		json_object_object_add(o, "what", json_object_new_string(p->what));
		json_object_object_add(o, "key", json_object_new_string(key));
		json_object_object_add(o, "hit", json_object_new_boolean(p->hit));
		if (p->label)
			json_object_object_add(o, "label", json_object_new_string(p->label));
		json_object_array_add(pp->arr, o);
		return;
	}
	printf("  %2d. step %d %-24s %-4s %s%s%s\n", pp->n, p->step, p->what,
	       p->hit ? "HIT" : "miss", key, p->label ? "  -> label " : "",
	       p->label ? p->label : "");
}

/* The trust set of the registry's CAs and CRLs. */
static int build_trust(const struct accord_certdb *db, struct accord_trust **t,
		       struct accord_err *e)
{
	return accord_certdb_trust(db, t, e);
}

static int map_test(struct cli *c, int argc, char **argv)
{
	struct accord_certmap_ctx ctx = { 0 };
	struct accord_cert_verdict verdict = { 0 };
	struct accord_cert_policy pol;
	struct accord_certnames names = { 0 };
	struct accord_map_outcome out;
	struct accord_trust *trust = NULL;
	struct accord_err e = { 0 };
	struct probe_print pp = { 0 };
	STACK_OF(X509) *chain = NULL;
	unsigned char *der = NULL;
	char host[256] = "", sub[2048], iss[2048], hex[65];
	json_object *jo = NULL;
	struct view v;
	struct opts o;
	X509 *x = NULL;
	size_t len = 0;
	int r, i, exitc = 0;

	r = parse_opts(argc, argv, "certmap test", "SHRtCv", 1, "the certificate file", &o);
	if (r)
		return r;
	r = read_cert(c, o.args[0], &der, &len, &x);
	if (r)
		return r;
	if (o.set[O_CHAIN]) {
		char *data = NULL;
		size_t n = 0;

		r = fu_read_file(o.v[O_CHAIN], CERT_FILE_MAX, &data, &n);
		if (r < 0) {
			r = input_error(c, o.v[O_CHAIN], r, NULL);
			goto out_nov;
		}
		r = accord_cert_load_all((const unsigned char *)data, n, &chain, &e);
		free(data);
		if (r < 0) {
			r = fail(c, PH_INPUT, &e);
			goto out_nov;
		}
	}
	r = open_view(c, &v);
	if (r)
		goto out_nov;
	gethostname(host, sizeof(host) - 1);
	if (strchr(host, '.'))
		*strchr(host, '.') = 0;
	ctx.service = o.set[O_SERVICE] ? o.v[O_SERVICE] : "sshd";
	ctx.host = o.set[O_HOST] ? o.v[O_HOST] : host;
	ctx.rhost = o.v[O_RHOST];
	ctx.tty = o.v[O_TTY];
	ctx.vars = o.vars;
	ctx.nvars = o.nvars;
	ctx.mode = c->cfg.match ? ACCORD_MATCH_EXACT : ACCORD_MATCH_LDAP;
	accord_cert_policy_from_config(&c->cfg, &pol);
	r = build_trust(&v.db, &trust, &e);
	if (r == 0 && (r = accord_trust_verify(trust, x, chain, &pol, &verdict)) < 0)
		accord_err_set(&e, r, "the chain cannot be verified (check cert_eku and "
			       "crl_check in accord.conf)");
	if (r == 0)
		r = accord_certnames_from_x509(x, &names, &e);
	if (r < 0) {
		r = fail(c, PH_OP, &e);
		goto out;
	}
	if (accord_dn_format(names.subject, ACCORD_DN_STYLE_RFC4514, sub, sizeof(sub)) < 0)
		snprintf(sub, sizeof(sub), "(too long)");
	if (accord_dn_format(names.issuer, ACCORD_DN_STYLE_RFC4514, iss, sizeof(iss)) < 0)
		snprintf(iss, sizeof(iss), "(too long)");
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", names.sha256[i]);
	if (c->json) {
		jo = json_object_new_object();
		pp.arr = json_object_new_array();
		json_object_object_add(jo, "subject", json_object_new_string(sub));
		json_object_object_add(jo, "issuer", json_object_new_string(iss));
		json_object_object_add(jo, "serial", json_object_new_string(names.serial));
		json_object_object_add(jo, "sha256", json_object_new_string(hex));
		json_object_object_add(jo, "chain",
				       json_object_new_string(accord_cert_reason_name(verdict.reason)));
		json_object_object_add(jo, "chain_detail", json_object_new_string(verdict.detail));
	} else {
		printf("Certificate\n  subject  %s\n  issuer   %s\n  serial   %s\n  sha256   %s\n",
		       sub, iss, names.serial, hex);
		printf("Chain: %s%s%s\n", verdict.reason == ACCORD_CERT_OK ? "valid" :
		       accord_cert_reason_name(verdict.reason), verdict.detail[0] ? " - " : "",
		       verdict.detail);
		printf("Mapping (service %s, host %s, match %s): probes in RACF's order\n",
		       ctx.service, ctx.host, c->cfg.match ? "exact" : "ldap");
	}
	r = accord_certmap_resolve(&v.db, &names, &ctx, on_probe, &pp, &out);
	if (r < 0) {
		json_object_put(jo);
		json_object_put(pp.arr);
		r = fail(c, PH_OPEN, &(struct accord_err){ -EBADMSG,
			 "the certificate section is damaged; run 'accordctl check'" });
		goto out;
	}
	if (out.result != ACCORD_MAPPED || verdict.reason != ACCORD_CERT_OK)
		exitc = EXIT_PROBLEMS;
	if (jo) {
		json_object_object_add(jo, "probes", pp.arr);
		json_object_object_add(jo, "result",
				       json_object_new_string(accord_map_result_name(out.result)));
		json_object_object_add(jo, "tier", json_object_new_string(
			out.tier == 1 ? "registered" : out.tier == 2 ? "filter" : "none"));
		json_object_object_add(jo, "label", json_object_new_string(out.label));
		json_object_object_add(jo, "owner", json_object_new_string(out.owner));
		if (out.criteria[0])
			json_object_object_add(jo, "criteria", json_object_new_string(out.criteria));
		if (out.criteria_entry[0])
			json_object_object_add(jo, "criteria_entry",
					       json_object_new_string(out.criteria_entry));
		json_object_object_add(jo, "user", json_object_new_string(out.user));
		json_object_object_add(jo, "dot_compat", json_object_new_boolean(out.dot_compat));
		json_object_object_add(jo, "logon", json_object_new_boolean(exitc == 0));
		print_json(jo);
	} else {
		if (out.tier)
			printf("Winner: label %s of %s (%s%s), status %s\n", out.label, out.owner,
			       out.tier == 1 ? "registered certificate" : "filter, step ",
			       out.tier == 1 ? "" : (char[]){ (char)('0' + out.step), 0 },
			       out.result == ACCORD_MAP_DENIED ? "NOTRUST" : "TRUST");
		if (out.dot_compat)
			printf("Note: a value of the certificate ends in '.' where the filter has "
			       "RACF's single '.' separator;\n      it matches as RACF would; "
			       "write the filter with commas (RFC 4514) to be exact\n");
		if (out.criteria[0])
			printf("Criteria: %s -> entry %s\n", out.criteria,
			       out.criteria_entry[0] ? out.criteria_entry : "(none)");
		switch (out.result) {
		case ACCORD_MAPPED:
			printf("Result: maps to user %s%s\n", out.user,
			       verdict.reason == ACCORD_CERT_OK ? "" :
			       " - but the chain is refused, so a logon would be too");
			break;
		case ACCORD_MAP_DENIED:
			printf("Result: denied (the most specific match is NOTRUST; RACF does not "
			       "fall back to a less specific map)\n");
			break;
		case ACCORD_MAP_NO_MATCH:
			printf("Result: no map matches (%d probes)\n", out.probes);
			break;
		case ACCORD_MAP_NO_CRITERIA:
			printf("Result: denied (MULTIID: no criteria entry matches '%s')\n",
			       out.criteria);
			break;
		}
	}
	r = exitc;
out:
	close_view(&v);
out_nov:
	accord_certnames_clear(&names);
	accord_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	X509_free(x);
	free(der);
	return r;
}

/* ---- certmap import-racf ---------------------------------------------- */

struct import_args {
	struct accord_racf_script *s;
	char (*result)[ACCORD_ERR_MSG]; /* per command: "" taken, else why not */
	size_t taken;
};

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int do_import(struct accord_state *st, void *p, struct accord_err *e)
{
	struct import_args *a = p;
	size_t i;

	a->taken = 0;
	for (i = 0; i < a->s->ncmds; i++) {
		const struct accord_racf_cmd *cmd = &a->s->cmds[i];
		struct accord_err one = { 0 };
		char user[64] = "";
		int r;

		if (cmd->kind == ACCORD_RACF_MAP && cmd->id)
			snprintf(user, sizeof(user), "%s", cmd->id);
		else if (cmd->kind == ACCORD_RACF_CRIT)
			snprintf(user, sizeof(user), "%s", cmd->crit_user);
		lower(user); /* RACF IDs are upper case, Linux names lower */
		if (cmd->kind == ACCORD_RACF_MAP) {
			struct accord_certmap_spec spec = {
				cmd->label, cmd->multiid ? NULL : user, cmd->multiid,
				cmd->criteria, cmd->sdn, cmd->idn, cmd->notrust, NULL, 0,
			};
			char *sdn = NULL, *idn = NULL;

			/* RACF filters are the dotted form: say so, so that a filter
			 * with a comma in a value is never read as RFC 4514 */
			if (cmd->sdn && asprintf(&sdn, "racf:%s", cmd->sdn) < 0)
				return accord_err_set(e, -ENOMEM, "out of memory");
			if (cmd->idn && asprintf(&idn, "racf:%s", cmd->idn) < 0) {
				free(sdn);
				return accord_err_set(e, -ENOMEM, "out of memory");
			}
			spec.sdn = sdn;
			spec.idn = idn;
			r = accord_certmap_add(st, &spec, NULL, &one);
			free(sdn);
			free(idn);
		} else {
			r = accord_certcrit_add(st, cmd->crit_name, user, &one);
		}
		if (r == -ENOMEM)
			return accord_err_set(e, r, "out of memory");
		/* r > 0: the same criteria entry exists, nothing was imported */
		if (r != 0)
			snprintf(a->result[i], sizeof(a->result[i]), "%s",
				 r < 0 ? one.msg : "the same entry is already in the registry");
		else
			a->taken++;
	}
	return a->taken ? 0 : 1;
}

static int map_import(struct cli *c, int argc, char **argv)
{
	struct import_args a = { 0 };
	struct accord_err e = { 0 };
	struct write_result res = { 0 };
	struct opts o;
	char *data = NULL, op[512];
	size_t n = 0, i;
	int r;

	r = parse_opts(argc, argv, "certmap import-racf", "", 1, "the file", &o);
	if (r)
		return r;
	r = fu_read_file(o.args[0], RACF_FILE_MAX, &data, &n);
	if (r < 0)
		return input_error(c, o.args[0], r, r == -EFBIG ? "larger than 16 MiB" : NULL);
	r = accord_racf_parse(data, n, &a.s, &e);
	free(data);
	if (r < 0)
		return fail(c, PH_INPUT, &e);
	a.result = calloc(a.s->ncmds + 1, sizeof(*a.result));
	if (!a.result) {
		accord_racf_free(a.s);
		return fail(c, PH_OP, &(struct accord_err){ -ENOMEM, "out of memory" });
	}
	snprintf(op, sizeof(op), "certmap import-racf %s", o.args[0]);
	r = a.s->ncmds ? run_write(c, op, do_import, &a, &res) : 0;
	if (r == 0) {
		for (i = 0; i < a.s->ncmds; i++) {
			const struct accord_racf_cmd *cmd = &a.s->cmds[i];

			if (a.result[i][0])
				printf("line %u: not taken: %s\n", cmd->line, a.result[i]);
		}
		for (i = 0; i < a.s->nskips; i++)
			printf("line %u: skipped: %s\n    %s\n", a.s->skips[i].line,
			       a.s->skips[i].why, a.s->skips[i].text);
		printf("Imported %zu of %zu commands (%zu skipped, %zu refused)%s\n", a.taken,
		       a.s->ncmds + a.s->nskips, a.s->nskips, a.s->ncmds - a.taken,
		       a.taken ? "" : "; nothing changed");
		if (a.taken)
			report_write(c, &res, "The imported maps are published", "Nothing to change.");
		if (a.taken < a.s->ncmds + a.s->nskips)
			r = EXIT_PROBLEMS;
	}
	free(a.result);
	accord_racf_free(a.s);
	return r;
}

/* ---- certmap criteria ------------------------------------------------- */

static int do_crit_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certcrit_add(st, a->name, a->user, e);
}

static int do_crit_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct map_args *a = p;

	return accord_certcrit_del(st, a->name, e);
}

static int criteria(struct cli *c, int argc, char **argv)
{
	struct map_args a = { 0 };
	struct write_result res;
	struct opts o;
	char op[512], msg[400];
	int r;

	if (argc < 2)
		return usage_error("certmap criteria add NAME --user U | del NAME | list");
	if (!strcmp(argv[1], "list")) {
		struct view v;
		json_object *arr = c->json ? json_object_new_array() : NULL;
		struct accord_state *st = NULL;
		struct accord_err e = { 0 };
		size_t i, shown = 0;

		r = parse_opts(argc - 1, argv + 1, "certmap criteria list", "", 0, "", &o);
		if (r)
			return r;
		r = open_view(c, &v);
		if (r)
			return r;
		r = accord_state_from_snapshot(&v.snap, &st, &e);
		close_view(&v);
		if (r < 0) {
			json_object_put(arr);
			return fail(c, PH_OPEN, &e);
		}
		for (i = 0; i < accord_state_certcrit_slots(st); i++) {
			const struct accord_certcrit *k = accord_state_certcrit_at(st, i);

			if (!k->live)
				continue;
			shown++;
			if (arr) {
				json_object *jo = json_object_new_object();

				json_object_object_add(jo, "name", json_object_new_string(k->name));
				json_object_object_add(jo, "user", json_object_new_string(k->user));
				json_object_array_add(arr, jo);
			} else {
				printf("%-40s -> %s\n", k->name, k->user);
			}
		}
		accord_state_free(st);
		if (arr)
			print_json(arr);
		else if (!shown)
			printf("No criteria entries.\n");
		return 0;
	}
	if (!strcmp(argv[1], "add")) {
		r = parse_opts(argc - 1, argv + 1, "certmap criteria add", "u", 1, "the name", &o);
		if (r)
			return r;
		if (!o.set[O_USER])
			return usage_error("certmap criteria add: --user USER is required");
		a.name = o.args[0];
		a.user = o.v[O_USER];
		snprintf(op, sizeof(op), "certmap criteria add %s --user %s", a.name, a.user);
		r = run_write(c, op, do_crit_add, &a, &res);
		if (r)
			return r;
		snprintf(msg, sizeof(msg), "Criteria entry %s maps to %s", a.name, a.user);
		report_write(c, &res, msg, "Nothing to change: the entry exists");
		return 0;
	}
	if (!strcmp(argv[1], "del")) {
		r = parse_opts(argc - 1, argv + 1, "certmap criteria del", "", 1, "the name", &o);
		if (r)
			return r;
		a.name = o.args[0];
		snprintf(op, sizeof(op), "certmap criteria del %s", a.name);
		r = run_write(c, op, do_crit_del, &a, &res);
		if (r)
			return r;
		snprintf(msg, sizeof(msg), "Deleted criteria entry %s", a.name);
		report_write(c, &res, msg, "Nothing to change.");
		return 0;
	}
	return usage_error("certmap criteria: unknown subcommand '%s'", argv[1]);
}

int cmd_certmap(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "add"))
		return map_add(c, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return map_list_show(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "show"))
		return map_list_show(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "alter"))
		return map_alter(c, argc - 1, argv + 1);
	if (!strcmp(sub, "del"))
		return map_del(c, argc - 1, argv + 1);
	if (!strcmp(sub, "register"))
		return map_register(c, argc - 1, argv + 1);
	if (!strcmp(sub, "test"))
		return map_test(c, argc - 1, argv + 1);
	if (!strcmp(sub, "import-racf"))
		return map_import(c, argc - 1, argv + 1);
	if (!strcmp(sub, "criteria"))
		return criteria(c, argc - 1, argv + 1);
	return usage_error("certmap: expected add, list, show, alter, del, register, test, "
			   "import-racf or criteria%s%s", *sub ? ", not " : "", sub);
}

/* ---- ca and crl --------------------------------------------------------- */

struct ca_args {
	char chosen[ACCORD_LABEL_MAX + 1];
	const char *label;
	uint32_t status;
	unsigned char *der;
	size_t len;
};

static int do_ca_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct ca_args *a = p;
	int r = accord_ca_add(st, a->der, a->len, a->label, a->status, e);

	if (r == 0) /* the label it got, for the message */
		snprintf(a->chosen, sizeof(a->chosen), "%s",
			 accord_state_ca_at(st, accord_state_ca_slots(st) - 1)->label);
	return r;
}

static int do_ca_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct ca_args *a = p;

	return accord_ca_del(st, a->label, e);
}

static int do_ca_alter(struct accord_state *st, void *p, struct accord_err *e)
{
	struct ca_args *a = p;

	return accord_ca_set_status(st, a->label, a->status, e);
}

static int do_crl_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct ca_args *a = p;

	return accord_crl_add(st, a->der, a->len, e);
}

static int status_opt(const struct opts *o, uint32_t *status)
{
	int n = o->set[O_TRUST] + o->set[O_NOTRUST] + o->set[O_HIGH];

	if (n > 1)
		return usage_error("give one of --trust, --notrust, --hightrust");
	*status = o->set[O_NOTRUST] ? ACCORD_CA_NOTRUST :
		  o->set[O_HIGH] ? ACCORD_CA_HIGHTRUST : ACCORD_CA_TRUST;
	return 0;
}

static int ca_list(struct cli *c, bool crls)
{
	struct accord_state *st = NULL;
	struct accord_err e = { 0 };
	json_object *arr = c->json ? json_object_new_array() : NULL;
	struct view v;
	size_t i, shown = 0;
	char t1[40], t2[40];
	int r = open_view(c, &v);

	if (r) {
		json_object_put(arr);
		return r;
	}
	r = accord_state_from_snapshot(&v.snap, &st, &e);
	close_view(&v);
	if (r < 0) {
		json_object_put(arr);
		return fail(c, PH_OPEN, &e);
	}
	if (!crls) {
		for (i = 0; i < accord_state_ca_slots(st); i++) {
			const struct accord_ca *a = accord_state_ca_at(st, i);
			char hex[65];
			int k;

			if (!a->live)
				continue;
			shown++;
			for (k = 0; k < 32; k++)
				snprintf(hex + 2 * k, 3, "%02x", a->sha256[k]);
			accord_time_iso(a->not_after, t1, sizeof(t1));
			if (arr) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "label", json_object_new_string(a->label));
				json_object_object_add(o, "status", json_object_new_string(
					accord_ca_status_name(a->status)));
				json_object_object_add(o, "subject", json_object_new_string(a->subject));
				json_object_object_add(o, "sha256", json_object_new_string(hex));
				json_object_object_add(o, "not_after", json_object_new_string(t1));
				json_object_array_add(arr, o);
			} else {
				printf("%-16s %-9s %s\n%16s sha256 %s, valid until %s\n", a->label,
				       accord_ca_status_name(a->status), a->subject, "", hex, t1);
			}
		}
	} else {
		for (i = 0; i < accord_state_crl_slots(st); i++) {
			const struct accord_crl *l = accord_state_crl_at(st, i);

			if (!l->live)
				continue;
			shown++;
			accord_time_iso(l->last_update, t1, sizeof(t1));
			accord_time_iso(l->next_update, t2, sizeof(t2));
			if (arr) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "ca", json_object_new_string(l->ca_label));
				json_object_object_add(o, "last_update", json_object_new_string(t1));
				json_object_object_add(o, "next_update", json_object_new_string(t2));
				json_object_object_add(o, "entries", json_object_new_int64(l->entries));
				json_object_array_add(arr, o);
			} else {
				printf("CA %-16s %u revoked, issued %s, next update %s%s\n",
				       l->ca_label, l->entries, t1, t2,
				       l->next_update && l->next_update < time(NULL) ? " (EXPIRED)" : "");
			}
		}
	}
	accord_state_free(st);
	if (arr)
		print_json(arr);
	else if (!shown)
		printf("No %s in the registry.\n", crls ? "CRLs" : "CAs");
	return 0;
}

int cmd_ca(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct ca_args a = { 0 };
	struct write_result res;
	struct opts o;
	char op[256], msg[256];
	int r;

	if (!strcmp(sub, "list")) {
		r = parse_opts(argc - 1, argv + 1, "ca list", "", 0, "", &o);
		return r ? r : ca_list(c, false);
	}
	if (!strcmp(sub, "add")) {
		r = parse_opts(argc - 1, argv + 1, "ca add", "lTNh", 1, "the CA certificate file",
			       &o);
		if (r || (r = status_opt(&o, &a.status)))
			return r;
		a.label = o.v[O_LABEL];
		r = read_cert(c, o.args[0], &a.der, &a.len, NULL);
		if (r)
			return r;
		snprintf(op, sizeof(op), "ca add %s --%s", o.args[0], accord_ca_status_name(a.status));
		r = run_write(c, op, do_ca_add, &a, &res);
		free(a.der);
		if (r)
			return r;
		snprintf(msg, sizeof(msg), "Added the CA as %s (%s)", a.chosen,
			 accord_ca_status_name(a.status));
		report_write(c, &res, msg, "Nothing to change.");
		return 0;
	}
	if (!strcmp(sub, "del") || !strcmp(sub, "alter")) {
		bool del = !strcmp(sub, "del");

		r = parse_opts(argc - 1, argv + 1, del ? "ca del" : "ca alter", del ? "" : "TNh",
			       1, "the CA label", &o);
		if (r || (r = status_opt(&o, &a.status)))
			return r;
		if (!del && !o.set[O_TRUST] && !o.set[O_NOTRUST] && !o.set[O_HIGH])
			return usage_error("ca alter: give --trust, --notrust or --hightrust");
		a.label = o.args[0];
		snprintf(op, sizeof(op), "ca %s %s", sub, a.label);
		r = run_write(c, op, del ? do_ca_del : do_ca_alter, &a, &res);
		if (r)
			return r;
		snprintf(msg, sizeof(msg), del ? "Deleted CA %s (and its CRLs)" : "CA %s is now %s",
			 a.label, accord_ca_status_name(a.status));
		report_write(c, &res, msg, "Nothing to change.");
		return 0;
	}
	return usage_error("ca: expected add, list, alter or del%s%s", *sub ? ", not " : "", sub);
}

int cmd_crl(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct ca_args a = { 0 };
	struct write_result res;
	struct opts o;
	char op[256];
	int r;

	if (!strcmp(sub, "list")) {
		r = parse_opts(argc - 1, argv + 1, "crl list", "", 0, "", &o);
		return r ? r : ca_list(c, true);
	}
	if (!strcmp(sub, "add")) {
		r = parse_opts(argc - 1, argv + 1, "crl add", "", 1, "the CRL file", &o);
		if (r)
			return r;
		r = read_crl(c, o.args[0], &a.der, &a.len);
		if (r)
			return r;
		snprintf(op, sizeof(op), "crl add %s", o.args[0]);
		r = run_write(c, op, do_crl_add, &a, &res);
		free(a.der);
		if (r)
			return r;
		report_write(c, &res, "Added the CRL (it replaces the CA's previous one)",
			     "Nothing to change: the same CRL is already held");
		return 0;
	}
	return usage_error("crl: expected add or list%s%s", *sub ? ", not " : "", sub);
}
