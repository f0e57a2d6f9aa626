/* SPDX-License-Identifier: MIT */
/*
 * What a name, a passwd field and an ID may be.  Names follow the rules
 * shadow's useradd applies on Debian (lower case, digits, '_', '-', '.',
 * an optional trailing '$' for machine accounts, not starting with a digit
 * or '-', at most 32 bytes); fields may not hold ':' or control characters,
 * which would corrupt a passwd line.
 */
#include <accord/state.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int accord_check_name(const char *what, const char *name,
		      struct accord_err *err)
{
	size_t len = strlen(name), i;

	if (len == 0)
		return accord_err_set(err, -EINVAL, "%s is empty", what);
	if (len > ACCORD_NAME_MAX)
		return accord_err_set(err, -EINVAL,
				      "%s '%.40s...' is longer than %d characters",
				      what, name, ACCORD_NAME_MAX);
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return accord_err_set(err, -EINVAL,
				      "%s '%s' must start with a lower-case letter or '_'",
				      what, name);
	for (i = 1; i < len; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-' || c == '.')
			continue;
		if (c == '$' && i == len - 1)
			continue;
		if (c >= 'A' && c <= 'Z')
			return accord_err_set(err, -EINVAL,
					      "%s '%s' has an upper-case letter; names are lower case",
					      what, name);
		return accord_err_set(err, -EINVAL,
				      "%s '%s' has a character that is not allowed at position %zu "
				      "(allowed: a-z 0-9 _ - . and a final $)",
				      what, name, i + 1);
	}
	return 0;
}

int accord_check_field(const char *what, const char *value, size_t max,
		       bool absolute_path, struct accord_err *err)
{
	size_t len = strlen(value), i;

	if (len > max)
		return accord_err_set(err, -EINVAL, "%s is longer than %zu bytes",
				      what, max);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == ':')
			return accord_err_set(err, -EINVAL,
					      "%s may not contain ':' (it would corrupt the passwd line)",
					      what);
		if (c < 0x20 || c == 0x7f)
			return accord_err_set(err, -EINVAL,
					      "%s may not contain a newline or other control character",
					      what);
	}
	if (absolute_path && value[0] != '/')
		return accord_err_set(err, -EINVAL,
				      "%s '%s' must be an absolute path", what, value);
	return 0;
}

int accord_parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

int accord_parse_range(const char *s, struct accord_range *r)
{
	char buf[64], *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (accord_parse_id(buf, &r->lo) || accord_parse_id(dash + 1, &r->hi))
		return -EINVAL;
	return 0;
}

int accord_check_range(const char *what, const struct accord_range *r,
		       struct accord_err *err)
{
	if (r->lo > r->hi)
		return accord_err_set(err, -EINVAL,
				      "%s range %u-%u is empty (low end above high end)",
				      what, r->lo, r->hi);
	if (r->lo < 1000)
		return accord_err_set(err, -EINVAL,
				      "%s range %u-%u reaches below 1000, where the host's system accounts live",
				      what, r->lo, r->hi);
	if (r->hi > ACCORD_ID_MAX)
		return accord_err_set(err, -EINVAL,
				      "%s range %u-%u goes above 2147483647; some software treats IDs as signed",
				      what, r->lo, r->hi);
	return 0;
}

bool accord_id_reserved(uint32_t id)
{
	/* nobody/nogroup and (uid_t)-1 in 16 bits; systemd's homed and
	 * DynamicUser= blocks (docs/UIDS-GIDS.md). */
	return id == 65534 || id == 65535 || (id >= 60001 && id <= 60577) ||
	       (id >= 61184 && id <= 65519);
}
