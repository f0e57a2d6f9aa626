/* SPDX-License-Identifier: MIT */
/*
 * accordctl passticket: application keys (key set|del|list), the
 * authorization to generate (permit, permits), and generate, verify and
 * decode for administrators (RACF PassTickets, issue 4).  The keys and
 * permissions live in the registry's root-only secrets store
 * (include/accord/ptstore.h), never in the snapshot.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <accord/jsonfmt.h>
#include <accord/logon.h>
#include <accord/passticket.h>
#include <accord/ptstore.h>

#include "cli.h"

/* Longest key line read from stdin (512 hex digits and some slack). */
#define KEY_LINE_MAX 1024
#define TIME_MAX ((UINT64_C(1) << 48) - 1)

static const char *alg_name(uint32_t alg)
{
	return alg == ACCORD_PT_LEGACY ? "legacy" : "enhanced";
}

static const char *type_name(uint32_t type)
{
	return type == ACCORD_PT_MIXED ? "mixed" : "upper";
}

/* fail() with a message of our own: the exit code of (ph, code). */
static int fail_code(struct cli *c, enum phase ph, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_code(struct cli *c, enum phase ph, int code, const char *fmt, ...)
{
	struct accord_err e = { 0 };
	char msg[ACCORD_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	accord_err_set(&e, code, "%s", msg);
	return fail(c, ph, &e);
}

/*
 * Opens the secrets store (the registry first).  A store that a caller
 * who is not root may not open gets the one clear message.  Without
 * create, a store never made is -ENOENT: *s stays NULL and 0 is returned
 * when missing_ok.  0, or the exit code (message printed).
 */
static int open_store(struct cli *c, bool create, bool missing_ok, struct accord_secrets **s)
{
	struct accord_err e = { 0 };
	int r;

	*s = NULL;
	r = open_registry(c);
	if (r)
		return r;
	r = accord_secrets_open(accord_registry_path(c->reg), create, s, &e);
	if (r == 0)
		return 0;
	if (r == -ENOENT && missing_ok && !create)
		return 0;
	if ((r == -EPERM || r == -EACCES) && geteuid() != 0) {
		accord_err_set(&e, -EACCES, "PassTicket keys and permissions are in the "
			       "registry's secrets store, which only root may read: run "
			       "accordctl as root (for example through sudo)");
		return fail(c, PH_OPEN, &e);
	}
	if (r == -ENOENT) {
		accord_err_set(&e, -ENOENT, "no PassTicket key is stored (the registry has "
			       "no secrets store yet; accordctl passticket key set makes it)");
		return fail(c, PH_OP, &e);
	}
	return fail(c, PH_OPEN, &e);
}

/* Decimal seconds since 1970, 0..2^48-1 (the enhanced time range). */
static int parse_time(const char *opt, const char *v, uint64_t *out)
{
	uint64_t t = 0;
	const char *p = v;

	if (!*p)
		return usage_error("%s needs seconds since 1970 (UTC)", opt);
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || t > TIME_MAX / 10)
			return usage_error("%s takes seconds since 1970 (UTC), 0 to %" PRIu64
					   ", not '%s'", opt, TIME_MAX, v);
		t = t * 10 + (uint64_t)(*p - '0');
	}
	if (t > TIME_MAX)
		return usage_error("%s takes seconds since 1970 (UTC), 0 to %" PRIu64
				   ", not '%s'", opt, TIME_MAX, v);
	*out = t;
	return 0;
}

/* The time a decoded ticket stands for: a legacy time is modulo 2^32
 * (it wraps in 2106), so the one closest to now; an enhanced time is 48
 * bits, absolute. */
static int64_t ticket_time(const struct accord_pt_key *k, uint64_t t, uint64_t now)
{
	uint64_t m = UINT64_C(1) << 32, d = (t - now) & (m - 1);

	if (k->alg != ACCORD_PT_LEGACY)
		return (int64_t)t;
	return (int64_t)now + (d >= m / 2 ? -(int64_t)(m - d) : (int64_t)d);
}

/* ---- key set, del, list ------------------------------------------------ */

/* One line from fd without its newline (and trailing blanks or CR) into
 * buf, one byte at a time so no stdio buffer keeps a copy.  Length, or
 * -E2BIG, -EIO. */
static ssize_t read_key_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char ch = 0;

	for (;;) {
		ssize_t k = read(fd, &ch, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -EIO;
		if (k == 0 || ch == '\n')
			break;
		if (n + 1 >= size) {
			explicit_bzero(&ch, sizeof(ch));
			return -E2BIG;
		}
		buf[n++] = ch;
	}
	while (n && (buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	explicit_bzero(&ch, sizeof(ch));
	return (ssize_t)n;
}

struct key_opts {
	char *hex;           /* --key-hex (argv, or "-") */
	bool generate, masked, no_replay, have_alg, have_type, have_window;
	uint32_t alg, type, window;
};

static int parse_key_opts(int argc, char **argv, struct key_opts *o, const char **profile)
{
	static const struct option opts[] = {
		{ "key-hex", required_argument, NULL, 'k' },
		{ "generate", no_argument, NULL, 'g' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "no-replay-protection", no_argument, NULL, 'n' },
		{ "masked", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (o->hex)
				return usage_error("passticket key set: --key-hex given twice");
			o->hex = optarg;
			break;
		case 'g':
			o->generate = true;
			break;
		case 'a':
			if (!strcmp(optarg, "legacy"))
				o->alg = ACCORD_PT_LEGACY;
			else if (!strcmp(optarg, "enhanced"))
				o->alg = ACCORD_PT_ENHANCED;
			else
				return usage_error("--algorithm takes 'legacy' or 'enhanced', "
						   "not '%s'", optarg);
			o->have_alg = true;
			break;
		case 't':
			if (!strcmp(optarg, "upper"))
				o->type = ACCORD_PT_UPPER;
			else if (!strcmp(optarg, "mixed"))
				o->type = ACCORD_PT_MIXED;
			else
				return usage_error("--type takes 'upper' or 'mixed', not '%s'",
						   optarg);
			o->have_type = true;
			break;
		case 'w': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v < 1 ||
			    v > ACCORD_PT_WINDOW)
				return usage_error("--window takes 1 to %u seconds, not '%s'",
						   ACCORD_PT_WINDOW, optarg);
			o->window = (uint32_t)v;
			o->have_window = true;
			break;
		}
		case 'n':
			o->no_replay = true;
			break;
		case 'm':
			o->masked = true;
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("passticket key set: unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("passticket key set: the profile name (APPL, APPL.GROUP, "
				   "APPL.USER or APPL.GROUP.USER) is missing");
	if (optind != argc - 1)
		return usage_error("passticket key set takes one profile name (extra: '%s')",
				   argv[optind + 1]);
	*profile = argv[optind];
	if (!o->hex == !o->generate)
		return usage_error("passticket key set: give either --key-hex HEX (or "
				   "--key-hex - to read it from standard input) or --generate");
	if (!o->have_alg)
		o->alg = ACCORD_PT_LEGACY;
	if (o->alg == ACCORD_PT_LEGACY && o->have_type)
		return usage_error("--type applies to enhanced keys only (--algorithm enhanced)");
	if (o->alg == ACCORD_PT_LEGACY && o->have_window && o->window != ACCORD_PT_WINDOW)
		return usage_error("--window applies to enhanced keys only: a legacy key has "
				   "RACF's window of %u seconds", ACCORD_PT_WINDOW);
	if (o->masked && (o->generate || o->alg != ACCORD_PT_LEGACY))
		return usage_error("--masked applies to a legacy key given with --key-hex "
				   "(RACF's KEYMASKED form)");
	if (!o->have_window)
		o->window = ACCORD_PT_WINDOW;
	if (!o->have_type)
		o->type = ACCORD_PT_UPPER;
	return 0;
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int key_set(struct cli *c, int argc, char **argv)
{
	struct key_opts o = { 0 };
	struct accord_pt_key k;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	char name[ACCORD_PT_PROFILE_MAX + 1];
	char line[KEY_LINE_MAX + 1], shown[2 * ACCORD_PT_HMAC_MAX + 1], msg[256];
	const char *profile = NULL;
	int r;

	memset(&k, 0, sizeof(k));
	memset(line, 0, sizeof(line));
	memset(shown, 0, sizeof(shown));
	r = parse_key_opts(argc, argv, &o, &profile);
	if (r)
		goto out;
	if (o.hex && strcmp(o.hex, "-")) {
		/* argv is readable by every user (ps, /proc/PID/cmdline): take a
		 * copy and blank ours at once, and say so */
		if (strlen(o.hex) > KEY_LINE_MAX) {
			r = usage_error("--key-hex: the key is longer than %d characters",
					KEY_LINE_MAX);
			goto out;
		}
		snprintf(line, sizeof(line), "%s", o.hex);
		memset(o.hex, 'x', strlen(o.hex));
		fprintf(stderr, "accordctl: warning: a key on the command line is visible "
			"to other users (ps, /proc) while accordctl runs, and may stay in "
			"the shell history; use --key-hex - to read it from standard input\n");
	} else if (o.hex) {
		ssize_t n = read_key_line(STDIN_FILENO, line, sizeof(line));

		if (n < 0) {
			if (n == -E2BIG)
				r = fail_code(c, PH_INPUT, -EINVAL, "the key read from standard "
					      "input is longer than %d characters", KEY_LINE_MAX);
			else
				r = fail_code(c, PH_INPUT, (int)n, "cannot read the key from "
					      "standard input");
			goto out;
		}
	}
	r = accord_pt_profile_name(profile, name, &e);
	if (r < 0) {
		r = fail(c, PH_OP, &e);
		goto out;
	}
	k.alg = o.alg;
	k.type = o.type;
	k.window = o.window;
	k.replay_protection = !o.no_replay;
	if (o.generate) {
		size_t len = o.alg == ACCORD_PT_LEGACY ? 8 : 64, done = 0;

		while (done < len) {
			ssize_t n = getrandom(k.key + done, len - done, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = fail_code(c, PH_OP, -EIO, "cannot get random bytes for the "
					      "key: %s", strerror(errno));
				goto out;
			}
			done += (size_t)n;
		}
		k.len = len;
		hex_of(k.key, k.len, shown);
	} else {
		r = accord_pt_key_from_hex(line, o.alg, o.masked, &k, &e);
		if (r < 0) {
			r = fail(c, PH_OP, &e);
			goto out;
		}
	}
	r = open_store(c, true, false, &sec);
	if (r)
		goto out;
	r = accord_pt_key_put(sec, name, &k, &e);
	if (r < 0) {
		r = fail(c, PH_COMMIT, &e);
		goto out;
	}
	if (k.alg == ACCORD_PT_LEGACY)
		snprintf(msg, sizeof(msg), "Stored the legacy PassTicket key of %s (window %u "
			 "seconds, replay protection %s)", name, k.window,
			 k.replay_protection ? "on" : "off");
	else
		snprintf(msg, sizeof(msg), "Stored the enhanced PassTicket key of %s (%zu "
			 "bits, type %s, window %u seconds, replay protection %s)", name,
			 k.len * 8, type_name(k.type), k.window,
			 k.replay_protection ? "on" : "off");
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "profile", json_object_new_string(name));
		json_object_object_add(j, "algorithm", json_object_new_string(alg_name(k.alg)));
		json_object_object_add(j, "type", json_object_new_string(type_name(k.type)));
		json_object_object_add(j, "window", json_object_new_int64(k.window));
		json_object_object_add(j, "replay_protection",
				       json_object_new_boolean(k.replay_protection));
		if (o.generate)
			json_object_object_add(j, "key", json_object_new_string(shown));
		json_object_object_add(j, "message", json_object_new_string(msg));
		print_json(j);
	} else {
		printf("%s\n", msg);
		if (o.generate) {
			printf("Generated key (shown only this once; install the same key on "
			       "z/OS):\n%s\n", shown);
			if (k.alg == ACCORD_PT_LEGACY)
				printf("  RDEFINE PTKTDATA %s SSIGNON(KEYMASKED(<the key>))%s\n",
				       name, k.replay_protection
						     ? ""
						     : " APPLDATA('NO REPLAY PROTECTION')");
			else
				printf("  store it in the ICSF CKDS as an HMAC key, then\n"
				       "  RDEFINE PTKTDATA %s SSIGNON(EPTKEYLABEL(<label>) TYPE(%s) "
				       "TIMEOUT(%u) REPLAY(%s))\n", name,
				       k.type == ACCORD_PT_MIXED ? "MIXED" : "UPPER", k.window,
				       k.replay_protection ? "NO" : "YES");
		}
	}
	fflush(stdout);
	r = 0;
out:
	accord_pt_key_wipe(&k);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(shown, sizeof(shown));
	accord_secrets_close(sec);
	return r;
}

static int one_profile(int argc, char **argv, const char *what, const char **name)
{
	if (argc < 2)
		return usage_error("passticket %s: the profile name is missing", what);
	if (argc > 2)
		return usage_error("passticket %s takes one profile name (extra: '%s')", what,
				   argv[2]);
	if (argv[1][0] == '-')
		return usage_error("passticket %s: unknown option '%s'", what, argv[1]);
	*name = argv[1];
	return 0;
}

static int key_del(struct cli *c, int argc, char **argv)
{
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	char name[ACCORD_PT_PROFILE_MAX + 1], msg[128];
	const char *profile;
	int r;

	r = one_profile(argc, argv, "key del", &profile);
	if (r)
		return r;
	if (accord_pt_profile_name(profile, name, &e) < 0)
		return fail(c, PH_OP, &e);
	r = open_store(c, false, false, &sec);
	if (r)
		return r;
	r = accord_pt_key_del(sec, name, &e);
	accord_secrets_close(sec);
	if (r < 0)
		return fail(c, r == -ENOENT ? PH_OP : PH_COMMIT, &e);
	snprintf(msg, sizeof(msg), "Deleted the PassTicket key of %s", name);
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "profile", json_object_new_string(name));
		json_object_object_add(j, "message", json_object_new_string(msg));
		print_json(j);
	} else {
		printf("%s\n", msg);
	}
	return 0;
}

struct list_ctx {
	bool show;
	json_object *arr;
	size_t n;
};

static int list_one(const char *profile, const struct accord_pt_key *k, void *p)
{
	struct list_ctx *l = p;
	char hex[2 * ACCORD_PT_HMAC_MAX + 1] = "";

	if (l->show)
		hex_of(k->key, k->len, hex);
	if (l->arr) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "profile", json_object_new_string(profile));
		json_object_object_add(j, "algorithm", json_object_new_string(alg_name(k->alg)));
		json_object_object_add(j, "type", json_object_new_string(type_name(k->type)));
		json_object_object_add(j, "window", json_object_new_int64(k->window));
		json_object_object_add(j, "replay_protection",
				       json_object_new_boolean(k->replay_protection));
		json_object_object_add(j, "bits", json_object_new_int64((int64_t)k->len * 8));
		if (l->show)
			json_object_object_add(j, "key", json_object_new_string(hex));
		json_object_array_add(l->arr, j);
	} else {
		printf("%-26s %-9s %-5s %6u %-6s %4zu%s%s\n", profile, alg_name(k->alg),
		       k->alg == ACCORD_PT_LEGACY ? "-" : type_name(k->type), k->window,
		       k->replay_protection ? "yes" : "no", k->len * 8, l->show ? "  " : "",
		       hex);
	}
	explicit_bzero(hex, sizeof(hex));
	l->n++;
	return 0;
}

static int key_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "show", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx l = { .show = false };
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o != 's')
			return usage_error("passticket key list: unknown option '%s'",
					   argv[optind - 1]);
		l.show = true;
	}
	if (optind != argc)
		return usage_error("passticket key list takes no names (extra: '%s')",
				   argv[optind]);
	r = open_store(c, false, true, &sec);
	if (r)
		return r;
	if (c->json)
		l.arr = json_object_new_array();
	else
		printf("%-26s %-9s %-5s %6s %-6s %4s%s\n", "PROFILE", "ALGORITHM", "TYPE",
		       "WINDOW", "REPLAY", "BITS", l.show ? "  KEY" : "");
	r = sec ? accord_pt_key_list(sec, list_one, &l, &e) : 0;
	accord_secrets_close(sec);
	if (r < 0) {
		json_object_put(l.arr);
		fflush(stdout);
		return fail(c, PH_OPEN, &e);
	}
	if (l.arr)
		print_json(l.arr);
	fflush(stdout);
	return 0;
}

/* ---- permit, permits --------------------------------------------------- */

static const char *kind_name(uint32_t k)
{
	return k == ACCORD_ACE_USER ? "user" : "group";
}

static int permit(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "user", required_argument, NULL, 'U' },
		{ "remove", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	const char *who = NULL;
	char appl[ACCORD_PT_ID_MAX + 1], msg[256];
	uint32_t kind = 0;
	bool remove = false;
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
		case 'U':
			if (kind)
				return usage_error("passticket permit: give either --group or "
						   "--user, once");
			kind = o == 'g' ? ACCORD_ACE_GROUP : ACCORD_ACE_USER;
			who = optarg;
			break;
		case 'r':
			remove = true;
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("passticket permit: unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("passticket permit: the application name is missing");
	if (optind != argc - 1)
		return usage_error("passticket permit takes one application name (extra: '%s')",
				   argv[optind + 1]);
	if (!kind)
		return usage_error("passticket permit: name whom with --group GROUP or "
				   "--user USER");
	if (accord_pt_racf_id("application name", argv[optind], appl, &e) < 0)
		return fail(c, PH_OP, &e);
	if (!remove) {
		/* a permission names a profile or group of the registry */
		struct accord_snapshot snap;
		struct accord_snap_user u;
		struct accord_snap_group g;

		r = read_current(c, &snap);
		if (r)
			return r;
		r = kind == ACCORD_ACE_USER ? accord_snap_user_by_name(&snap, who, &u)
					    : accord_snap_group_by_name(&snap, who, &g);
		accord_snapshot_unmap(&snap);
		if (r < 0)
			return fail_code(c, r == -ENOENT ? PH_OP : PH_OPEN, r,
					 r == -ENOENT ? "%s '%s' does not exist"
						      : "the record of %s '%s' is damaged; run "
							"'accordctl check'",
					 kind_name(kind), who);
	}
	r = open_store(c, !remove, remove, &sec);
	if (r)
		return r;
	r = sec ? accord_pt_permit(sec, appl, kind, who, !remove, &e) : 1;
	accord_secrets_close(sec);
	if (r < 0)
		return fail(c, r == -EINVAL || r == -ENOSPC ? PH_OP : PH_COMMIT, &e);
	if (remove && r == 0)
		snprintf(msg, sizeof(msg), "Removed the permission of %s %s to generate "
			 "PassTickets for %s", kind_name(kind), who, appl);
	else if (remove)
		snprintf(msg, sizeof(msg), "Nothing to change: %s %s has no permission to "
			 "generate PassTickets for %s", kind_name(kind), who, appl);
	else if (r == 0)
		snprintf(msg, sizeof(msg), "Permitted %s %s to generate PassTickets for %s",
			 kind_name(kind), who, appl);
	else
		snprintf(msg, sizeof(msg), "Nothing to change: %s %s may already generate "
			 "PassTickets for %s", kind_name(kind), who, appl);
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "changes", json_object_new_int(r == 0));
		json_object_object_add(j, "message", json_object_new_string(msg));
		print_json(j);
	} else {
		printf("%s\n", msg);
	}
	return 0;
}

static int permits_one(const char *appl, uint32_t kind, const char *who, void *p)
{
	json_object *arr = p;

	if (arr) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "appl", json_object_new_string(appl));
		json_object_object_add(j, "type", json_object_new_string(kind_name(kind)));
		json_object_object_add(j, "name", json_object_new_string(who));
		json_object_array_add(arr, j);
	} else {
		printf("%-8s  %-5s  %s\n", appl, kind_name(kind), who);
	}
	return 0;
}

static int permits(struct cli *c, int argc, char **argv)
{
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	json_object *arr = NULL;
	const char *appl = NULL;
	int r;

	if (argc > 2)
		return usage_error("passticket permits takes at most one application name");
	if (argc == 2) {
		if (argv[1][0] == '-')
			return usage_error("passticket permits: unknown option '%s'", argv[1]);
		appl = argv[1];
	}
	r = open_store(c, false, true, &sec);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array();
	else
		printf("%-8s  %-5s  %s\n", "APPL", "TYPE", "NAME");
	r = sec ? accord_pt_permit_list(sec, appl, permits_one, arr, &e) : 0;
	if (r == 0 && !sec && appl) {
		char a[ACCORD_PT_ID_MAX + 1];

		r = accord_pt_racf_id("application name", appl, a, &e);
	}
	accord_secrets_close(sec);
	if (r < 0) {
		json_object_put(arr);
		fflush(stdout);
		return fail(c, r == -EINVAL ? PH_OP : PH_OPEN, &e);
	}
	if (arr)
		print_json(arr);
	return 0;
}

/* ---- generate, verify, decode ------------------------------------------ */

struct ticket_args {
	const char *user, *appl, *ticket;
	uint64_t now;
	bool has_time, consume;
	/* resolved */
	char racf_user[ACCORD_PT_ID_MAX + 1], racf_appl[ACCORD_PT_ID_MAX + 1];
	char racf_group[ACCORD_PT_ID_MAX + 1];
	bool has_group;
};

/* allowed: 't' --ticket, 'T' --time, 'c' --consume */
static int parse_ticket_opts(int argc, char **argv, const char *what, const char *allowed,
			     struct ticket_args *a)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "appl", required_argument, NULL, 'a' },
		{ "ticket", required_argument, NULL, 't' },
		{ "time", required_argument, NULL, 'T' },
		{ "consume", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		if (o == '?' || (o != 'u' && o != 'a' && !strchr(allowed, o)))
			return usage_error("passticket %s: unknown option '%s'", what,
					   argv[optind - 1]);
		switch (o) {
		case 'u':
			a->user = optarg;
			break;
		case 'a':
			a->appl = optarg;
			break;
		case 't':
			a->ticket = optarg;
			break;
		case 'T':
			if ((r = parse_time("--time", optarg, &a->now)))
				return r;
			a->has_time = true;
			break;
		case 'c':
			a->consume = true;
			break;
		}
	}
	if (optind != argc)
		return usage_error("passticket %s takes options only (extra: '%s')", what,
				   argv[optind]);
	if (!a->user || !a->appl)
		return usage_error("passticket %s needs --user USER and --appl APPL", what);
	if (strchr(allowed, 't') && !a->ticket)
		return usage_error("passticket %s needs --ticket TICKET", what);
	if (!a->has_time)
		a->now = (uint64_t)time(NULL);
	return 0;
}

/*
 * The RACF IDs of the request: the user must be a profile of the current
 * snapshot (kept mapped in *snap for the caller, who unmaps it); its
 * PassTicket user ID is its racf-id alias when it has one, else its name
 * in upper case, and its RACF group its
 * primary group's, when that is a valid RACF ID.  0, or the exit code.
 */
static int resolve(struct cli *c, struct ticket_args *a, struct accord_snapshot *snap)
{
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_err e = { 0 };
	int r;

	r = read_current(c, snap);
	if (r)
		return r;
	r = accord_snap_user_by_name(snap, a->user, &u);
	if (r < 0) {
		accord_snapshot_unmap(snap);
		return fail_code(c, r == -ENOENT ? PH_OP : PH_OPEN, r,
				 r == -ENOENT ? "user '%s' does not exist"
					      : "the record of user '%s' is damaged; run "
						"'accordctl check'", a->user);
	}
	if (accord_pt_racf_id("user ID", u.racf_id[0] ? u.racf_id : a->user,
			      a->racf_user, NULL) < 0) {
		accord_snapshot_unmap(snap);
		return fail_code(c, PH_OP, -EINVAL,
				 "user %s has no RACF user ID: a PassTicket user ID is the "
				 "profile's racf-id alias or its name in upper case, 1-8 of "
				 "A-Z 0-9 @ # $ ('accordctl user mod %s --racf-id ID' sets "
				 "an alias)", a->user, a->user);
	}
	if (accord_pt_racf_id("application name", a->appl, a->racf_appl, &e) < 0) {
		accord_snapshot_unmap(snap);
		return fail(c, PH_OP, &e);
	}
	a->has_group = accord_snap_group_by_gid(snap, u.gid, &g) == 0 &&
		       accord_pt_racf_id("group", g.name, a->racf_group, NULL) == 0;
	return 0;
}

/*
 * Who asks for a ticket.  Root is root when its login UID is unset or 0;
 * root started by a logged-in user (sudo, su) is that user; anyone else
 * is their real UID.  0: root (*name empty); 1: the profile in name;
 * -ENOENT: that UID is no profile of the registry (*uid set).
 */
static int requester(const struct accord_snapshot *snap, char *name, size_t size,
		     uint32_t *uid)
{
	struct accord_snap_user u;
	uint64_t v = 0;

	name[0] = '\0';
	if (geteuid() == 0) {
		FILE *f = fopen("/proc/self/loginuid", "re");
		char buf[32] = "";
		char *end;

		if (!f)
			return errno == ENOENT ? 0 : -EIO; /* a kernel without audit */
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			return -EIO;
		}
		fclose(f);
		errno = 0;
		v = strtoull(buf, &end, 10);
		if (errno || end == buf || (*end && *end != '\n'))
			return -EIO;
		if (v == 0 || v == UINT32_MAX)
			return 0;
	} else {
		v = getuid();
	}
	*uid = (uint32_t)v;
	if (accord_snap_user_by_uid(snap, (uint32_t)v, &u) < 0)
		return -ENOENT;
	snprintf(name, size, "%s", u.name);
	return 1;
}

/* The key that validates (user, appl): the qualified one first, then
 * APPL (RACF's fallback) when the first does not take the ticket.  *k,
 * found, *t and *op_r are those of the key that decided. */
typedef int (*ticket_op)(const struct accord_pt_key *k, struct ticket_args *a,
			 uint64_t *t, struct accord_err *e);

static int op_verify(const struct accord_pt_key *k, struct ticket_args *a, uint64_t *t,
		     struct accord_err *e)
{
	return accord_pt_verify(k, a->racf_user, a->racf_appl, a->ticket, a->now, t, e);
}

static int op_decode(const struct accord_pt_key *k, struct ticket_args *a, uint64_t *t,
		     struct accord_err *e)
{
	return accord_pt_decode(k, a->racf_user, a->racf_appl, a->ticket, t, e);
}

/* How well a key took the ticket: 2 a time inside its window, 1 a time
 * outside it, 0 none. */
static int rank(int r, const struct accord_pt_key *k, uint64_t t, uint64_t now)
{
	int64_t skew;

	if (r == -ETIME)
		return 1;
	if (r < 0)
		return 0;
	skew = ticket_time(k, t, now) - (int64_t)now;
	return skew >= -(int64_t)k->window && skew <= (int64_t)k->window ? 2 : 1;
}

static int with_key(struct accord_secrets *sec, struct ticket_args *a, ticket_op op,
		    struct accord_pt_key *k, char found[ACCORD_PT_PROFILE_MAX + 1],
		    uint64_t *t, struct accord_err *e, int *op_r)
{
	struct accord_err e2 = { 0 };
	struct accord_pt_key k2;
	uint64_t t2 = 0;
	int r, r2;

	r = accord_pt_key_find(sec, a->racf_appl, a->has_group ? a->racf_group : NULL,
			       a->racf_user, k, found, e);
	if (r < 0)
		return r;
	*op_r = op(k, a, t, e);
	if (rank(*op_r, k, *t, a->now) == 2 || !strcmp(found, a->racf_appl))
		return 0;
	r = accord_pt_key_get(sec, a->racf_appl, &k2, &e2);
	if (r == -ENOENT)
		return 0;  /* no APPL key: the qualified key's answer stands */
	if (r < 0) {
		*e = e2;
		accord_pt_key_wipe(&k2);
		return r;
	}
	r2 = op(&k2, a, &t2, &e2);
	if (rank(r2, &k2, t2, a->now) > rank(*op_r, k, *t, a->now)) {
		accord_pt_key_wipe(k);
		*k = k2;
		snprintf(found, ACCORD_PT_PROFILE_MAX + 1, "%s", a->racf_appl);
		*op_r = r2;
		*t = t2;
		*e = e2;
	}
	accord_pt_key_wipe(&k2);
	return 0;
}

static int open_ticket_store(struct cli *c, struct accord_secrets **sec)
{
	return open_store(c, false, false, sec);
}

static int generate(struct cli *c, int argc, char **argv)
{
	struct ticket_args a = { 0 };
	struct accord_snapshot snap;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	struct accord_pt_key k;
	char who[ACCORD_NAME_MAX + 1], found[ACCORD_PT_PROFILE_MAX + 1];
	char ticket[ACCORD_PT_LEN + 1] = "", iso[40];
	uint32_t uid = 0;
	int r;

	memset(&k, 0, sizeof(k));
	r = parse_ticket_opts(argc, argv, "generate", "T", &a);
	if (r)
		return r;
	r = resolve(c, &a, &snap);
	if (r)
		return r;
	/* the store first: a caller who is not root hears that the keys are
	 * root's, whoever it is */
	r = open_ticket_store(c, &sec);
	if (r)
		goto out;
	r = requester(&snap, who, sizeof(who), &uid);
	if (r == -EIO) {
		r = fail_code(c, PH_OP, -EACCES, "not authorized to generate PassTickets for "
			      "%s: cannot read the login UID of this process", a.racf_appl);
		goto out;
	}
	if (r == -ENOENT) {
		r = fail_code(c, PH_OP, -EACCES, "not authorized to generate PassTickets for "
			      "%s: the requester (login UID %u) is not a profile of the "
			      "registry", a.racf_appl, uid);
		goto out;
	}
	r = accord_pt_may_generate(sec, &snap, a.racf_appl, who[0] ? who : NULL, &e);
	if (r < 0) {
		r = fail(c, PH_OP, &e);
		goto out;
	}
	r = accord_pt_key_find(sec, a.racf_appl, a.has_group ? a.racf_group : NULL,
			       a.racf_user, &k, found, &e);
	if (r == 0)
		r = accord_pt_generate(&k, a.racf_user, a.racf_appl, a.now, ticket, &e);
	if (r < 0) {
		r = fail(c, r == -ENOENT || r == -EINVAL ? PH_OP : PH_OPEN, &e);
		goto out;
	}
	accord_time_iso((int64_t)a.now, iso, sizeof(iso));
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "ticket", json_object_new_string(ticket));
		json_object_object_add(j, "user", json_object_new_string(a.user));
		json_object_object_add(j, "racf_user", json_object_new_string(a.racf_user));
		json_object_object_add(j, "appl", json_object_new_string(a.racf_appl));
		json_object_object_add(j, "profile", json_object_new_string(found));
		json_object_object_add(j, "algorithm", json_object_new_string(alg_name(k.alg)));
		json_object_object_add(j, "time", json_object_new_int64((int64_t)a.now));
		json_object_object_add(j, "time_iso", json_object_new_string(iso));
		json_object_object_add(j, "valid_seconds", json_object_new_int64(k.window));
		print_json(j);
	} else {
		printf("%s\n", ticket);
	}
	fflush(stdout);
	r = 0;
out:
	explicit_bzero(ticket, sizeof(ticket));
	accord_pt_key_wipe(&k);
	accord_secrets_close(sec);
	accord_snapshot_unmap(&snap);
	return r;
}

static void print_verdict(struct cli *c, bool valid, const char *reason, const char *found,
			  bool have_t, int64_t t, int64_t now, bool consumed)
{
	char iso[40] = "";

	if (have_t)
		accord_time_iso(t, iso, sizeof(iso));
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "valid", json_object_new_boolean(valid));
		json_object_object_add(j, "reason", json_object_new_string(reason));
		json_object_object_add(j, "profile", found[0] ? json_object_new_string(found)
							      : NULL);
		json_object_object_add(j, "time", have_t ? json_object_new_int64(t) : NULL);
		json_object_object_add(j, "time_iso", have_t ? json_object_new_string(iso)
							     : NULL);
		json_object_object_add(j, "skew", have_t ? json_object_new_int64(t - now)
							 : NULL);
		json_object_object_add(j, "consumed", json_object_new_boolean(consumed));
		print_json(j);
		return;
	}
	if (have_t)
		printf("%s: %s (key %s; generated %s, %" PRId64 ", %+" PRId64 " s from now)\n",
		       valid ? "valid" : "invalid", reason, found, iso, t, t - now);
	else
		printf("%s: %s%s%s%s\n", valid ? "valid" : "invalid", reason,
		       found[0] ? " (key " : "", found, found[0] ? ")" : "");
}

static int verify(struct cli *c, int argc, char **argv)
{
	struct ticket_args a = { 0 };
	struct accord_snapshot snap;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	struct accord_pt_key k;
	char found[ACCORD_PT_PROFILE_MAX + 1] = "", reason[ACCORD_ERR_MSG + 64];
	uint64_t t = 0;
	int64_t tabs = 0;
	bool consumed = false;
	int r, vr = 0;

	memset(&k, 0, sizeof(k));
	r = parse_ticket_opts(argc, argv, "verify", "tTc", &a);
	if (r)
		return r;
	r = resolve(c, &a, &snap);
	if (r)
		return r;
	r = open_ticket_store(c, &sec);
	if (r)
		goto out;
	r = with_key(sec, &a, op_verify, &k, found, &t, &e, &vr);
	if (r < 0) {
		r = fail(c, r == -ENOENT ? PH_OP : PH_OPEN, &e);
		goto out;
	}
	if (vr == 0 || vr == -ETIME)
		tabs = ticket_time(&k, t, a.now);
	if (vr == -ETIME) {
		/* every legacy ticket decodes to some time for any user: one
		 * far away is most likely another user's, application's or
		 * key's ticket, not a clock problem */
		if (tabs - (int64_t)a.now > 3600 || tabs - (int64_t)a.now < -3600)
			snprintf(reason, sizeof(reason), "not a PassTicket of %s for %s with "
				 "this key (it decodes to a time far outside the window of %u "
				 "seconds)", a.racf_user, a.racf_appl, k.window);
		else
			snprintf(reason, sizeof(reason), "outside the window of %u seconds "
				 "(expired, or the clocks differ)", k.window);
		print_verdict(c, false, reason, found, true, tabs, (int64_t)a.now, false);
		r = EXIT_PROBLEMS;
		goto out;
	}
	if (vr < 0) {
		snprintf(reason, sizeof(reason), "not a PassTicket of %s for %s: %s",
			 a.racf_user, a.racf_appl, e.msg[0] ? e.msg : strerror(-vr));
		print_verdict(c, false, reason, found, false, 0, (int64_t)a.now, false);
		r = EXIT_PROBLEMS;
		goto out;
	}
	if (a.consume && k.replay_protection) {
		vr = accord_pt_replay_claim(sec, a.racf_user, a.racf_appl, a.ticket,
					    tabs + (int64_t)k.window, (int64_t)a.now, &e);
		if (vr == -EALREADY) {
			print_verdict(c, false, "replayed: this PassTicket was used before "
				      "(replay protection)", found, true, tabs, (int64_t)a.now,
				      false);
			r = EXIT_PROBLEMS;
			goto out;
		}
		if (vr < 0) {
			r = fail(c, PH_COMMIT, &e);
			goto out;
		}
		consumed = true;
	}
	snprintf(reason, sizeof(reason), "%s",
		 !a.consume ? "within the window (not consumed)"
		 : consumed ? "within the window; consumed (a second use is refused)"
			    : "within the window (replay protection is off for this key: "
			      "it may be used again)");
	print_verdict(c, true, reason, found, true, tabs, (int64_t)a.now, consumed);
	r = 0;
out:
	fflush(stdout);
	accord_pt_key_wipe(&k);
	accord_secrets_close(sec);
	accord_snapshot_unmap(&snap);
	return r;
}

static int decode(struct cli *c, int argc, char **argv)
{
	struct ticket_args a = { 0 };
	struct accord_snapshot snap;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	struct accord_pt_key k;
	char found[ACCORD_PT_PROFILE_MAX + 1] = "", iso[40];
	uint64_t t = 0;
	int64_t tabs, skew;
	int r, dr = 0;

	memset(&k, 0, sizeof(k));
	r = parse_ticket_opts(argc, argv, "decode", "tT", &a);
	if (r)
		return r;
	r = resolve(c, &a, &snap);
	if (r)
		return r;
	r = open_ticket_store(c, &sec);
	if (r)
		goto out;
	r = with_key(sec, &a, op_decode, &k, found, &t, &e, &dr);
	if (r == 0 && dr < 0)
		r = dr;
	if (r < 0) {
		if (r == -EINVAL)
			accord_err_prefix(&e, r, "not a PassTicket of %s for %s", a.racf_user,
					  a.racf_appl);
		r = fail(c, r == -ENOENT || r == -EINVAL ? PH_OP : PH_OPEN, &e);
		goto out;
	}
	tabs = ticket_time(&k, t, a.now);
	skew = tabs - (int64_t)a.now;
	accord_time_iso(tabs, iso, sizeof(iso));
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "profile", json_object_new_string(found));
		json_object_object_add(j, "time", json_object_new_int64(tabs));
		json_object_object_add(j, "time_iso", json_object_new_string(iso));
		json_object_object_add(j, "skew", json_object_new_int64(skew));
		json_object_object_add(j, "window", json_object_new_int64(k.window));
		json_object_object_add(j, "within_window",
				       json_object_new_boolean(skew >= -(int64_t)k.window &&
							       skew <= (int64_t)k.window));
		print_json(j);
	} else {
		printf("generated: %s (%" PRId64 ")\n", iso, tabs);
		printf("skew:      %+" PRId64 " s from now (%s the window of %u seconds)\n",
		       skew, skew >= -(int64_t)k.window && skew <= (int64_t)k.window
				     ? "inside" : "outside", k.window);
		printf("key:       %s (%s)\n", found, alg_name(k.alg));
	}
	r = 0;
out:
	fflush(stdout);
	accord_pt_key_wipe(&k);
	accord_secrets_close(sec);
	accord_snapshot_unmap(&snap);
	return r;
}

int cmd_passticket(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "key")) {
		const char *k = argc > 2 ? argv[2] : "";

		if (!strcmp(k, "set"))
			return key_set(c, argc - 2, argv + 2);
		if (!strcmp(k, "del"))
			return key_del(c, argc - 2, argv + 2);
		if (!strcmp(k, "list"))
			return key_list(c, argc - 2, argv + 2);
		if (!k[0])
			return usage_error("passticket key: set, del or list");
		return usage_error("unknown 'passticket key' command '%s'", k);
	}
	if (!strcmp(sub, "permit"))
		return permit(c, argc - 1, argv + 1);
	if (!strcmp(sub, "permits"))
		return permits(c, argc - 1, argv + 1);
	if (!strcmp(sub, "generate"))
		return generate(c, argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return verify(c, argc - 1, argv + 1);
	if (!strcmp(sub, "decode"))
		return decode(c, argc - 1, argv + 1);
	if (!sub[0])
		return usage_error("passticket: key, permit, permits, generate, verify or "
				   "decode");
	return usage_error("unknown 'passticket' command '%s'", sub);
}
