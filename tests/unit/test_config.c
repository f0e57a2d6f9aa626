/* SPDX-License-Identifier: MIT */
/* accord.conf (common/config.c): keys, comments, errors that name the line,
 * limits, and the trust check of accord_config_load(). */
#include "unit_util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accord_config.h"

static int parse(const char *text, struct accord_config *cfg,
		 struct accord_err *err)
{
	accord_config_defaults(cfg);
	memset(err, 0, sizeof(*err));
	return accord_config_parse(text, strlen(text), "test.conf", cfg, err);
}

static void test_defaults(void **state)
{
	struct accord_config cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	accord_config_defaults(&cfg);
	assert_string_equal(cfg.registry, "");
	assert_string_equal(cfg.snapshot, ACCORD_SNAPSHOT_PATH);
	assert_string_equal(cfg.default_home, "/home");
	assert_string_equal(cfg.default_shell, "/bin/bash");
	assert_int_equal(cfg.lock_timeout, 30);
	assert_int_equal(cfg.snapshot_grace, 600);
	assert_int_equal(cfg.revoke_after, 5);
	assert_int_equal(cfg.inactive_days, 0);
	assert_false(cfg.protect_all);
	assert_int_equal(cfg.password_min_length, 8);
	assert_string_equal(cfg.audit_file, "");
	assert_string_equal(cfg.swap_never, "");
}

static void test_all_keys(void **state)
{
	static const char text[] =
		"# accord.conf\n"
		"\n"
		"registry = /srv/accord/registry\n"
		"   snapshot=/var/lib/accord/snap2   \n"
		"\t# indented comment\n"
		"default_home = /export/home\r\n"
		"default_shell = /bin/zsh\n"
		"lock_timeout = 5\n"
		"snapshot_grace = 0\n"
		"revoke_after = 0\n"
		"inactive_days = 90\n"
		"protect_all = yes\n"
		"password_min_length = 12\n"
		"audit_file = /var/log/accord/audit.json\n"
		"swap_never = root, admin ,break_glass$\n"
		"registry = /srv/other"; /* last one wins; no final newline */
	struct accord_config cfg;
	struct accord_err err;

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_string_equal(cfg.registry, "/srv/other");
	assert_string_equal(cfg.snapshot, "/var/lib/accord/snap2");
	assert_string_equal(cfg.default_home, "/export/home");
	assert_string_equal(cfg.default_shell, "/bin/zsh");
	assert_int_equal(cfg.lock_timeout, 5);
	assert_int_equal(cfg.snapshot_grace, 0);
	assert_int_equal(cfg.revoke_after, 0);
	assert_int_equal(cfg.inactive_days, 90);
	assert_true(cfg.protect_all);
	assert_int_equal(cfg.password_min_length, 12);
	assert_string_equal(cfg.audit_file, "/var/log/accord/audit.json");
	assert_string_equal(cfg.swap_never, "root,admin,break_glass$");

	/* an empty swap_never clears the list; protect_all = no */
	assert_int_equal(parse("swap_never = a\nswap_never =\nprotect_all = no\n", &cfg, &err),
			 0);
	assert_string_equal(cfg.swap_never, "");
	assert_false(cfg.protect_all);

	/* an empty file and a comment-only file keep the defaults */
	assert_int_equal(parse("", &cfg, &err), 0);
	assert_int_equal(cfg.lock_timeout, 30);
	assert_int_equal(parse("# nothing\n\n   \n", &cfg, &err), 0);
	assert_string_equal(cfg.registry, "");
}

static void test_errors_name_the_line(void **state)
{
	static const char abs_path[] = "must be an absolute path";
	static const struct {
		const char *text, *msg, *msg2;
	} bad[] = {
		{ "# ok\nregistry = /r\nregistyr = /r\n", "test.conf:3: unknown key 'registyr'",
		  "" },
		{ "\n\nsnapshot = var/lib/x\n", "test.conf:3: snapshot", abs_path },
		{ "registry = relative\n", "test.conf:1: registry", abs_path },
		{ "registry =\n", "test.conf:1: registry", abs_path },
		{ "default_home = home\n", "test.conf:1: default_home", abs_path },
		{ "default_shell = sh\n", "test.conf:1: default_shell", abs_path },
		{ "#\n#\njust words\n", "test.conf:3: expected 'key = value'", "" },
		{ "lock_timeout = soon\n", "test.conf:1: lock_timeout", "whole number" },
		{ "lock_timeout = -1\n", "test.conf:1: lock_timeout", "whole number" },
		{ "lock_timeout = 3601\n", "test.conf:1: lock_timeout", "3600" },
		{ "lock_timeout =\n", "test.conf:1: lock_timeout", "" },
		{ "snapshot_grace = 99999999999999999999\n", "test.conf:1: snapshot_grace", "" },
		{ "snapshot_grace = 2592001\n", "test.conf:1: snapshot_grace", "" },
		{ "Registry = /r\n", "unknown key 'Registry'", "" },
		{ "revoke_after = 1001\n", "test.conf:1: revoke_after", "0 to 1000" },
		{ "revoke_after = five\n", "test.conf:1: revoke_after", "whole number" },
		{ "revoke_after = -5\n", "test.conf:1: revoke_after", "whole number" },
		{ "revoke_after = +5\n", "test.conf:1: revoke_after", "whole number" },
		{ "revoke_after = 5 tries\n", "test.conf:1: revoke_after", "" },
		{ "inactive_days = 36501\n", "test.conf:1: inactive_days", "0 to 36500" },
		{ "inactive_days =\n", "test.conf:1: inactive_days", "" },
		{ "protect_all = true\n", "test.conf:1: protect_all", "yes or no" },
		{ "protect_all = YES\n", "test.conf:1: protect_all", "yes or no" },
		{ "protect_all =\n", "test.conf:1: protect_all", "yes or no" },
		{ "password_min_length = 0\n", "test.conf:1: password_min_length", "1 to 256" },
		{ "password_min_length = 257\n", "test.conf:1: password_min_length", "1 to 256" },
		{ "\naudit_file = audit.log\n", "test.conf:2: audit_file", abs_path },
		{ "audit_file =\n", "test.conf:1: audit_file", abs_path },
		{ "audit_file = /var/log/a\x01b\n", "test.conf:1: audit_file", "control" },
		{ "swap_never = root,,admin\n", "test.conf:1: swap_never", "empty entry" },
		{ "swap_never = root,\n", "test.conf:1: swap_never", "empty entry" },
		{ "swap_never = ,root\n", "test.conf:1: swap_never", "empty entry" },
		{ "swap_never = rOot\n", "test.conf:1: swap_never", "upper-case" },
		{ "swap_never = root admin\n", "test.conf:1: swap_never", "not allowed" },
		{ "swap_never = ../etc\n", "test.conf:1: swap_never", "must start" },
		{ "swap_never = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "test.conf:1: swap_never",
		  "longer than 32" },
	};
	struct accord_config cfg;
	struct accord_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].text, &cfg, &err) != -EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		assert_int_equal(err.code, -EINVAL);
		assert_contains(err.msg, bad[i].msg);
		assert_contains(err.msg, bad[i].msg2);
	}
	assert_int_equal(parse("lock_timeout = 3600\nsnapshot_grace = 2592000\n", &cfg, &err),
			 0);
	assert_int_equal(cfg.lock_timeout, 3600);
	assert_int_equal(cfg.snapshot_grace, 2592000);
	/* the limits themselves are accepted */
	assert_int_equal(parse("revoke_after = 1000\ninactive_days = 36500\n"
			       "password_min_length = 256\n", &cfg, &err), 0);
	assert_int_equal(cfg.revoke_after, 1000);
	assert_int_equal(cfg.inactive_days, 36500);
	assert_int_equal(cfg.password_min_length, 256);
	assert_int_equal(parse("password_min_length = 1\n", &cfg, &err), 0);
	assert_int_equal(cfg.password_min_length, 1);
}

static void test_line_limits(void **state)
{
	char *text = malloc(ACCORD_CONF_LINE_MAX + 64);
	struct accord_config cfg;
	struct accord_err err;
	size_t n, first;

	(void)state;
	assert_non_null(text);
	/* a comment line of exactly the limit is fine */
	text[0] = '#';
	memset(text + 1, 'c', ACCORD_CONF_LINE_MAX - 1);
	strcpy(text + ACCORD_CONF_LINE_MAX, "\nlock_timeout = 7\n");
	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_int_equal(cfg.lock_timeout, 7);

	/* one byte more is refused, never truncated (the 2nd line would be
	 * "registry = /...": a truncation would silently change it) */
	strcpy(text, "lock_timeout = 1\nregistry = /");
	first = strlen("lock_timeout = 1\n");
	n = strlen(text);
	memset(text + n, 'r', first + ACCORD_CONF_LINE_MAX + 1 - n);
	text[first + ACCORD_CONF_LINE_MAX + 1] = '\0';
	assert_int_equal(strlen(text + first), ACCORD_CONF_LINE_MAX + 1);
	assert_int_equal(parse(text, &cfg, &err), -EINVAL);
	assert_contains(err.msg, "test.conf:2: line longer than 1024 bytes");
	assert_string_equal(cfg.registry, "");
	free(text);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "registry = /a\0/b\n";
	struct accord_config cfg;
	struct accord_err err = { 0 };

	(void)state;
	accord_config_defaults(&cfg);
	assert_int_equal(accord_config_parse(text, sizeof(text) - 1, "nul.conf", &cfg, &err),
			 -EINVAL);
	assert_contains(err.msg, "nul.conf:1: NUL byte");
}

/* The certificate keys: choices and extended key usages are checked when
 * the file is read, not at the first logon. */
static void test_cert_keys(void **state)
{
	struct accord_config cfg;
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(parse("match = exact\ncrl_check = require\ncert_ku = any\n"
			       "cert_eku = clientAuth,1.3.6.1.4.1.311.20.2.2\n"
			       "challenge_max_age = 300\n", &cfg, &err), 0);
	assert_int_equal(cfg.match, 1);
	assert_int_equal(cfg.crl_check, 1);
	assert_false(cfg.cert_ku_ds);
	assert_string_equal(cfg.cert_eku, "clientAuth,1.3.6.1.4.1.311.20.2.2");
	assert_int_equal(cfg.challenge_max_age, 300);
	assert_int_equal(parse("cert_eku = clientauth\n", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'clientauth'"));
	assert_int_equal(parse("cert_eku = any,clientAuth\n", &cfg, &err), -EINVAL);
	assert_int_equal(parse("cert_eku = 1.2.\n", &cfg, &err), -EINVAL);
	assert_int_equal(parse("match = strict\n", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "ldap, exact"));
	assert_int_equal(parse("challenge_max_age = 5\n", &cfg, &err), -EINVAL);
}

static void test_load_file(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "accord.conf");
	char *missing = unit_path(dir, "missing.conf");
	static const char text[] = "registry = /srv/reg\n";
	struct accord_config cfg;
	struct accord_err err = { 0 };

	(void)state;
	accord_config_defaults(&cfg);
	assert_int_equal(accord_config_load(missing, true, &cfg, &err), 0);
	assert_string_equal(cfg.registry, "");
	assert_int_equal(accord_config_load(missing, false, &cfg, &err), -ENOENT);
	assert_contains(err.msg, missing);

	unit_write_file(path, text, sizeof(text) - 1);
	assert_int_equal(accord_config_load(path, false, &cfg, &err), 0);
	assert_string_equal(cfg.registry, "/srv/reg");

	/* a file others can write is refused, and the message says how to fix it */
	accord_config_defaults(&cfg);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(accord_config_load(path, false, &cfg, &err), -EPERM);
	assert_contains(err.msg, "chmod go-w");
	assert_string_equal(cfg.registry, "");
	assert_int_equal(chmod(path, 0646), 0);
	assert_int_equal(accord_config_load(path, false, &cfg, &err), -EPERM);

	/* not a regular file */
	assert_int_equal(accord_config_load(dir, false, &cfg, &err), -EINVAL);
	/* a symbolic link is not followed, even to a good file; a FIFO does
	 * not hang the caller */
	{
		char *lnk = unit_path(dir, "link.conf"), *fifo = unit_path(dir, "fifo.conf");

		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(symlink(path, lnk), 0);
		accord_config_defaults(&cfg);
		assert_int_equal(accord_config_load(lnk, false, &cfg, &err), -EINVAL);
		assert_contains(err.msg, "symbolic link");
		assert_string_equal(cfg.registry, "");
		assert_int_equal(accord_config_load(lnk, true, &cfg, &err), -EINVAL);
		assert_int_equal(mkfifo(fifo, 0644), 0);
		assert_int_equal(accord_config_load(fifo, false, &cfg, &err), -EINVAL);
		assert_contains(err.msg, "not a regular file");
		free(lnk);
		free(fifo);
	}
	/* an empty file is fine; one past the size limit is not */
	{
		char *empty = unit_path(dir, "empty.conf"), *big = unit_path(dir, "big.conf");
		char *huge = malloc((1u << 20) + 2);

		assert_non_null(huge);
		unit_write_file(empty, "", 0);
		assert_int_equal(chmod(empty, 0644), 0);
		assert_int_equal(accord_config_load(empty, false, &cfg, &err), 0);
		memset(huge, '#', (1u << 20) + 1);
		unit_write_file(big, huge, (1u << 20) + 1);
		assert_int_equal(chmod(big, 0644), 0);
		assert_int_equal(accord_config_load(big, false, &cfg, &err), -EFBIG);
		free(huge);
		free(empty);
		free(big);
	}

	/* a parse error names the file */
	assert_int_equal(chmod(path, 0644), 0);
	unit_write_file(path, "bogus = 1\n", 10);
	assert_int_equal(accord_config_load(path, false, &cfg, &err), -EINVAL);
	assert_contains(err.msg, path);
	assert_contains(err.msg, ":1: unknown key 'bogus'");

	unit_rmtree(dir);
	free(missing);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_cert_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
