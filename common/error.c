/* SPDX-License-Identifier: MIT */
#include <accord/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int accord_err_set(struct accord_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int accord_err_prefix(struct accord_err *e, int code, const char *fmt, ...)
{
	char old[ACCORD_ERR_MSG];
	size_t n;
	va_list ap;

	if (!e)
		return code;
	memcpy(old, e->msg, sizeof(old));
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	/* append ": old" into what is left; a long message is cut, not lost */
	if (old[0] && n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		strncpy(e->msg + n, old, sizeof(e->msg) - n - 1);
		e->msg[sizeof(e->msg) - 1] = '\0';
	}
	return code;
}
