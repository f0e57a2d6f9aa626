/* SPDX-License-Identifier: MIT */
/*
 * The glibc NSS entry points of libnss_accord.so.2.  Only these are
 * exported (nss_accord.sym); the tests include this header so that the
 * prototypes they call are the ones the module defines.
 */
#ifndef NSS_ACCORD_H
#define NSS_ACCORD_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <sys/types.h>

#define NSS_ACCORD_EXPORT __attribute__((visibility("default")))

NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getpwnam_r(const char *name, struct passwd *pw, char *buf,
		       size_t buflen, int *errnop);
NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
		       int *errnop);
NSS_ACCORD_EXPORT enum nss_status _nss_accord_setpwent(int stayopen);
NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
		       int *errnop);
NSS_ACCORD_EXPORT enum nss_status _nss_accord_endpwent(void);

NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getgrnam_r(const char *name, struct group *gr, char *buf,
		       size_t buflen, int *errnop);
NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
		       int *errnop);
NSS_ACCORD_EXPORT enum nss_status _nss_accord_setgrent(int stayopen);
NSS_ACCORD_EXPORT enum nss_status
_nss_accord_getgrent_r(struct group *gr, char *buf, size_t buflen,
		       int *errnop);
NSS_ACCORD_EXPORT enum nss_status _nss_accord_endgrent(void);

NSS_ACCORD_EXPORT enum nss_status
_nss_accord_initgroups_dyn(const char *user, gid_t group, long int *start,
			   long int *size, gid_t **groupsp, long int limit,
			   int *errnop);

#endif
