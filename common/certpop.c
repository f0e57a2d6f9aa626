/* SPDX-License-Identifier: MIT */
/* being written (issue 5) */
typedef int accord_certpop_unit_not_empty;
