/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the NSS module tests (not cmocka specific). */
#ifndef ACCORD_TEST_UTIL_H
#define ACCORD_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A fresh directory under $TMPDIR (or /tmp); malloc'd path, or NULL. */
char *test_tmpdir(void);
/* Remove the files directly inside dir, then dir itself. */
void test_rmtree(const char *dir);
/* dir + "/" + name, malloc'd (aborts on ENOMEM). */
char *test_path(const char *dir, const char *name);
void test_sleep_ms(unsigned ms);
int64_t test_now_ms(void);

/* Longer than the 1 s refresh interval, with slack for slow runners. */
#define TEST_REFRESH_WAIT_MS 1050

#endif
