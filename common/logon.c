/* SPDX-License-Identifier: MIT */
/* The secrets store: see include/accord/logon.h. */
#include <accord/logon.h>
