/* SPDX-License-Identifier: MIT */
/*
 * The pure (keyless) steps of the legacy PassTicket algorithm in
 * common/passticket.c, exposed so that tests/unit/test_passticket.c can
 * check them against the spec's step vectors (translation 07247F79 ->
 * QHOAH1TV, round-1 permutation 017B -> A32A).  Nothing else includes
 * this.
 */
#ifndef ACCORD_PASSTICKET_PRIV_H
#define ACCORD_PASSTICKET_PRIV_H

#include <stdint.h>

#include <accord/passticket.h>

/* Step 6: R5 -> 8 characters of A-Z0-9 and a NUL. */
void accord_pt_translate(uint32_t r5, char out[ACCORD_PT_LEN + 1]);
/* Its inverse: -EINVAL unless ticket is 8 characters of A-Z0-9 (a-z are
 * folded) whose overlapping bits agree; *r5 is then the unique preimage. */
int accord_pt_untranslate(const char *ticket, uint32_t *r5);
/* Permutation table 1..6 of the time-coder, and its inverse. */
uint16_t accord_pt_permute(unsigned table, uint16_t in);
uint16_t accord_pt_unpermute(unsigned table, uint16_t in);

#endif
