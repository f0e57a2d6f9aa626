/* SPDX-License-Identifier: MIT */
/*
 * accord.conf: "key = value" lines, '#' comments.  Unknown keys and
 * over-long lines are errors (never silently ignored or truncated): a
 * typo in a security setting must not go unnoticed.
 */
#include <accord/registry.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accord_config.h"
#include "fileutil.h"

#define CONF_FILE_MAX (1u << 20)

void accord_config_defaults(struct accord_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->snapshot, sizeof(cfg->snapshot), "%s", ACCORD_SNAPSHOT_PATH);
	snprintf(cfg->default_home, sizeof(cfg->default_home), "/home");
	snprintf(cfg->default_shell, sizeof(cfg->default_shell), "/bin/bash");
	cfg->lock_timeout = 30;
	cfg->snapshot_grace = 600;
	cfg->revoke_after = 5;
	cfg->inactive_days = 0;
	cfg->protect_all = false;
	cfg->password_min_length = 8;
	cfg->match = 0;          /* ldap */
	cfg->crl_check = 0;      /* auto */
	snprintf(cfg->cert_eku, sizeof(cfg->cert_eku), "clientAuth");
	cfg->cert_ku_ds = true;
	cfg->challenge_max_age = 120;
	/* audit_file and swap_never: "" (none), from the memset */
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int set_path(char *dst, size_t cap, const char *key, const char *v,
		    const char *where, unsigned line, struct accord_err *err)
{
	if (accord_check_field(key, v, cap - 1, true, err) < 0)
		return accord_err_prefix(err, -EINVAL, "%s:%u", where, line);
	if (v[0] != '/')
		return accord_err_set(err, -EINVAL, "%s:%u: %s must be an absolute path",
				      where, line, key);
	if (strlen(v) >= cap)
		return accord_err_set(err, -EINVAL, "%s:%u: %s is too long", where, line, key);
	strcpy(dst, v);
	return 0;
}

static int set_choice(unsigned *dst, const char *key, const char *v,
		      const char *const *choices, const char *where, unsigned line,
		      struct accord_err *err)
{
	unsigned i;
	char list[128] = "";

	for (i = 0; choices[i]; i++) {
		if (!strcmp(v, choices[i])) {
			*dst = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? ", " : "", choices[i]);
	}
	return accord_err_set(err, -EINVAL, "%s:%u: %s must be one of %s", where, line, key,
			      list);
}

/* cert_eku: "any", or a comma list of EKU names or dotted OIDs (checked
 * again by the verifier). */
static int set_eku(char *dst, size_t cap, const char *key, const char *v,
		   const char *where, unsigned line, struct accord_err *err)
{
	const char *p;

	if (!*v || strlen(v) >= cap)
		return accord_err_set(err, -EINVAL, "%s:%u: %s must be 'any' or a list of at "
				      "most %zu characters", where, line, key, cap - 1);
	static const char *const names[] = { "clientAuth", "serverAuth", "emailProtection",
					     "codeSigning", "msSmartcardLogin", "pkinit", NULL };

	if (!strcmp(v, "any")) {
		strcpy(dst, v);
		return 0;
	}
	for (p = v;;) {
		size_t n = strcspn(p, ","), i;
		bool ok = false;

		for (i = 0; names[i] && !ok; i++)
			ok = strlen(names[i]) == n && !strncmp(p, names[i], n);
		if (!ok && n && isdigit((unsigned char)p[0])) {
			/* a dotted OID: digits and dots, not ending in a dot */
			ok = p[n - 1] != '.';
			for (i = 0; i < n && ok; i++)
				ok = isdigit((unsigned char)p[i]) || (p[i] == '.' && p[i + 1] != '.');
		}
		if (!ok)
			return accord_err_set(err, -EINVAL, "%s:%u: %s: '%.*s' is not an extended "
					      "key usage (clientAuth, serverAuth, emailProtection, "
					      "codeSigning, msSmartcardLogin, pkinit, a dotted OID, "
					      "or 'any' alone)", where, line, key, (int)n, p);
		if (!p[n])
			break;
		p += n + 1;
	}
	strcpy(dst, v);
	return 0;
}

static int set_uint_range(unsigned *dst, const char *key, const char *v,
			  unsigned min, unsigned max, const char *where,
			  unsigned line, struct accord_err *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !*v || v[0] < '0' || v[0] > '9' || n < min || n > max)
		return accord_err_set(err, -EINVAL,
				      "%s:%u: %s must be a whole number from %u to %u",
				      where, line, key, min, max);
	*dst = (unsigned)n;
	return 0;
}

static int set_uint(unsigned *dst, const char *key, const char *v, unsigned max,
		    const char *where, unsigned line, struct accord_err *err)
{
	return set_uint_range(dst, key, v, 0, max, where, line, err);
}

static int set_bool(bool *dst, const char *key, const char *v,
		    const char *where, unsigned line, struct accord_err *err)
{
	if (!strcmp(v, "yes"))
		*dst = true;
	else if (!strcmp(v, "no"))
		*dst = false;
	else
		return accord_err_set(err, -EINVAL, "%s:%u: %s must be yes or no",
				      where, line, key);
	return 0;
}

/*
 * "a, b,c" -> "a,b,c": each entry a valid profile name, none empty (a
 * stray comma is more likely a typo than a wish).  An empty value means
 * no entry.
 */
static int set_name_list(char *dst, size_t cap, const char *key, const char *v,
			 const char *where, unsigned line, struct accord_err *err)
{
	char out[ACCORD_CONF_LINE_MAX + 1];
	size_t n = 0;
	const char *p = v;

	if (!*v) {
		dst[0] = '\0';
		return 0;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[ACCORD_CONF_LINE_MAX + 1], what[64];

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		memcpy(name, p, len);
		name[len] = '\0';
		if (!len)
			return accord_err_set(err, -EINVAL,
					      "%s:%u: %s has an empty entry (a stray comma?)",
					      where, line, key);
		snprintf(what, sizeof(what), "%s entry", key);
		if (accord_check_name(what, name, err) < 0)
			return accord_err_prefix(err, -EINVAL, "%s:%u", where, line);
		if (n + len + 1 >= sizeof(out) || n + len + 1 >= cap)
			return accord_err_set(err, -EINVAL, "%s:%u: %s is too long",
					      where, line, key);
		if (n)
			out[n++] = ',';
		memcpy(out + n, name, len);
		n += len;
		if (!comma)
			break;
		p = comma + 1;
	}
	out[n] = '\0';
	memcpy(dst, out, n + 1);
	return 0;
}

int accord_config_parse(const char *text, size_t len, const char *where,
			struct accord_config *cfg, struct accord_err *err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int r = 0;

	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[ACCORD_CONF_LINE_MAX + 1], *s, *eq, *key, *val;

		line++;
		if (n > ACCORD_CONF_LINE_MAX)
			return accord_err_set(err, -EINVAL, "%s:%u: line longer than %d bytes",
					      where, line, ACCORD_CONF_LINE_MAX);
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl ? nl + 1 : end;
		if (memchr(buf, '\0', n))
			return accord_err_set(err, -EINVAL, "%s:%u: NUL byte", where, line);
		s = trim(buf);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return accord_err_set(err, -EINVAL,
					      "%s:%u: expected 'key = value'", where, line);
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!strcmp(key, "registry"))
			r = set_path(cfg->registry, sizeof(cfg->registry), key, val, where, line, err);
		else if (!strcmp(key, "snapshot"))
			r = set_path(cfg->snapshot, sizeof(cfg->snapshot), key, val, where, line, err);
		else if (!strcmp(key, "default_home"))
			r = set_path(cfg->default_home, sizeof(cfg->default_home), key, val,
				     where, line, err);
		else if (!strcmp(key, "default_shell"))
			r = set_path(cfg->default_shell, sizeof(cfg->default_shell), key, val,
				     where, line, err);
		else if (!strcmp(key, "lock_timeout"))
			r = set_uint(&cfg->lock_timeout, key, val, 3600, where, line, err);
		else if (!strcmp(key, "snapshot_grace"))
			r = set_uint(&cfg->snapshot_grace, key, val, 30 * 86400, where, line, err);
		else if (!strcmp(key, "revoke_after"))
			r = set_uint(&cfg->revoke_after, key, val, 1000, where, line, err);
		else if (!strcmp(key, "inactive_days"))
			r = set_uint(&cfg->inactive_days, key, val, 36500, where, line, err);
		else if (!strcmp(key, "protect_all"))
			r = set_bool(&cfg->protect_all, key, val, where, line, err);
		else if (!strcmp(key, "password_min_length"))
			r = set_uint_range(&cfg->password_min_length, key, val, 1, 256,
					   where, line, err);
		else if (!strcmp(key, "audit_file"))
			r = set_path(cfg->audit_file, sizeof(cfg->audit_file), key, val,
				     where, line, err);
		else if (!strcmp(key, "swap_never"))
			r = set_name_list(cfg->swap_never, sizeof(cfg->swap_never), key, val,
					  where, line, err);
		else if (!strcmp(key, "match"))
			r = set_choice(&cfg->match, key, val, (const char *const[]){ "ldap", "exact",
				       NULL }, where, line, err);
		else if (!strcmp(key, "crl_check"))
			r = set_choice(&cfg->crl_check, key, val, (const char *const[]){ "auto",
				       "require", "off", NULL }, where, line, err);
		else if (!strcmp(key, "cert_ku")) {
			unsigned v = 0;

			r = set_choice(&v, key, val, (const char *const[]){ "digitalSignature", "any",
				       NULL }, where, line, err);
			cfg->cert_ku_ds = v == 0;
		} else if (!strcmp(key, "cert_eku"))
			r = set_eku(cfg->cert_eku, sizeof(cfg->cert_eku), key, val, where, line, err);
		else if (!strcmp(key, "default_owner")) {
			if (!*val) {
				cfg->default_owner[0] = '\0';
			} else if ((r = accord_check_name(key, val, err)) < 0) {
				r = accord_err_prefix(err, -EINVAL, "%s:%u", where, line);
			} else {
				strcpy(cfg->default_owner, val);
			}
		} else if (!strcmp(key, "challenge_max_age"))
			r = set_uint_range(&cfg->challenge_max_age, key, val, 10, 3600, where, line,
					   err);
		else
			r = accord_err_set(err, -EINVAL, "%s:%u: unknown key '%s'", where, line, key);
	}
	return r;
}

int accord_config_load(const char *path, bool missing_ok,
		       struct accord_config *cfg, struct accord_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0, cap;
	int fd, r;

	/* one descriptor for the check and the read: what was checked is
	 * what is read.  O_NONBLOCK: a FIFO must not hang the caller. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		if (errno == ELOOP)
			return accord_err_set(err, -EINVAL,
					      "%s is not a regular file (a symbolic link)", path);
		return accord_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = accord_err_set(err, -EINVAL, "%s is not a regular file", path);
		goto out;
	}
	if (fu_trusted(&st) < 0) {
		r = accord_err_set(err, -EPERM,
				   "refusing %s: it must be owned by root and not writable "
				   "by group or others (chown root %s; chmod go-w %s)",
				   path, path, path);
		goto out;
	}
	if ((size_t)st.st_size > CONF_FILE_MAX) {
		r = accord_err_set(err, -EFBIG, "cannot read %s: %s", path, strerror(EFBIG));
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	text = malloc(cap + 1);
	if (!text) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nt;

			if (cap > CONF_FILE_MAX) {
				r = accord_err_set(err, -EFBIG, "cannot read %s: %s", path,
						   strerror(EFBIG));
				goto out;
			}
			nt = realloc(text, cap * 2 + 1);
			if (!nt) {
				r = accord_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			text = nt;
			cap *= 2;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = accord_err_set(err, -errno, "cannot read %s: %s", path,
					   strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		r = accord_err_set(err, -EFBIG, "cannot read %s: %s", path, strerror(EFBIG));
		goto out;
	}
	text[len] = '\0';
	r = accord_config_parse(text, len, path, cfg, err);
out:
	free(text);
	close(fd);
	return r;
}
