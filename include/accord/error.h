/* SPDX-License-Identifier: MIT */
/*
 * One error convention for libaccord: functions return 0 or a negative
 * errno and, when the caller passes one, fill a struct accord_err with a
 * sentence that names what was wrong and, where there is one, what to do.
 * The library never logs; callers print or log the message.
 */
#ifndef ACCORD_ERROR_H
#define ACCORD_ERROR_H

#define ACCORD_ERR_MSG 768

struct accord_err {
	int code;                 /* the negative errno also returned */
	char msg[ACCORD_ERR_MSG]; /* "" when no detail was given */
};

/* Sets e->code and formats e->msg (if e is not NULL); returns code. */
int accord_err_set(struct accord_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps code, prepends "prefix: " to the existing message. */
int accord_err_prefix(struct accord_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
