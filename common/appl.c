/* SPDX-License-Identifier: MIT */
/* Applications (APPL class) and swap rules in the state: see state.h. */
#include <accord/state.h>
