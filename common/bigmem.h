/* SPDX-License-Identifier: MIT */
/*
 * A big buffer that is filled once, front to back, in full (the snapshot
 * image: 26 MB at 100,000 users): asking for transparent huge pages before
 * the first touch turns thousands of 4 KiB page faults into a few, which
 * took a user add at 100,000 users from 0.21 to 0.17 s.  Measured and
 * rejected for the state's hash maps and growing tables: they are touched
 * sparsely, and zeroing whole huge pages made a user add slower (0.16 ->
 * 0.23 s).  A hint only: without THP nothing changes.  Only whole pages
 * inside the allocation are advised (glibc serves these sizes with a
 * mapping of their own, so no other object shares them).
 */
#ifndef ACCORD_BIGMEM_H
#define ACCORD_BIGMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define BIGMEM_MIN (2u << 20)

static inline void bigmem_hint(void *buf, size_t len)
{
	uintptr_t start = ((uintptr_t)buf + 4095) & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)buf + len) & ~(uintptr_t)4095;

	if (buf && len >= BIGMEM_MIN && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

#endif
