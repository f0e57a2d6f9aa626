/* SPDX-License-Identifier: MIT */
/* Logon decisions: see include/accord/policy.h. */
#include <accord/policy.h>
