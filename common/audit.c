/* SPDX-License-Identifier: MIT */
/* Audit records: see include/accord/audit.h. */
#include <accord/audit.h>
