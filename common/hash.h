/* SPDX-License-Identifier: MIT */
/*
 * Hashes used by the snapshot format: a seeded 64-bit hash for index keys
 * and a checksum for file bodies.  Both follow the XXH64 construction and
 * are libc-free, so the NSS module can carry them.  They detect damage,
 * not tampering: the files they cover are only writable by root.
 */
#ifndef ACCORD_HASH_H
#define ACCORD_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t accord_hash64(const void *data, size_t len, uint64_t seed);
uint64_t accord_hash_id(uint32_t id, uint64_t seed);
uint64_t accord_checksum(const void *data, size_t len);

#endif
