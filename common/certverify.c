/* SPDX-License-Identifier: MIT */
/* being written (issue 5) */
typedef int accord_certverify_unit_not_empty;
