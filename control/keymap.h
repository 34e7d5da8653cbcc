/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * keymap.h -- small open-addressing maps used by the validator to find
 * duplicates and resolve references in linear time: string -> u32 and
 * u64 -> u32.  Keys are borrowed (strings must outlive the map).  Capacity
 * is fixed at init (twice the number of keys, rounded up to a power of
 * two), so inserts never rehash.
 *
 * Thread-safety: none.
 */
#ifndef VPC_KEYMAP_H
#define VPC_KEYMAP_H

#include <stdint.h>

struct keymap {
	struct keymap_slot *slots;
	uint32_t mask;
	uint32_t n;
	uint32_t cap_keys;
};

/* Room for n_keys keys.  0 or -ENOMEM. */
int keymap_init(struct keymap *m, uint32_t n_keys);
void keymap_fini(struct keymap *m);

/*
 * Insert key -> val unless key is present.  Returns VPC_KEYMAP_NEW when
 * inserted, otherwise the value already stored.  Inserting past n_keys
 * returns VPC_KEYMAP_FULL.
 */
uint32_t keymap_put_str(struct keymap *m, const char *key, uint32_t val);
uint32_t keymap_put_u64(struct keymap *m, uint64_t key, uint32_t val);

/* The value, or VPC_KEYMAP_NEW when absent. */
uint32_t keymap_get_str(const struct keymap *m, const char *key);
uint32_t keymap_get_u64(const struct keymap *m, uint64_t key);

#define VPC_KEYMAP_NEW  0xffffffffu
#define VPC_KEYMAP_FULL 0xfffffffeu

#endif /* VPC_KEYMAP_H */
