/* SPDX-License-Identifier: MIT */
/* being written (issue 5) */
typedef int accord_racfimport_unit_not_empty;
