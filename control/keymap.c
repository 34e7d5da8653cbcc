/* SPDX-License-Identifier: BSD-3-Clause */
#include "keymap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct keymap_slot {
	const char *str;	/* string key, or NULL for a u64 key */
	uint64_t key;		/* u64 key, or the string's hash */
	uint32_t val;
	bool used;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
mix(uint64_t x)
{
	/* splitmix64 finaliser: spreads sequential keys (IPs) over slots */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int
keymap_init(struct keymap *m, uint32_t n_keys)
{
	uint32_t cap = 16;

	while (cap < 2 * (uint64_t)n_keys)
		cap *= 2;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL)
		return -ENOMEM;
	m->mask = cap - 1;
	m->n = 0;
	m->cap_keys = n_keys;
	return 0;
}

void
keymap_fini(struct keymap *m)
{
	free(m->slots);
	m->slots = NULL;
}

static struct keymap_slot *
find(const struct keymap *m, const char *str, uint64_t key)
{
	uint64_t h = str ? key : mix(key);

	for (uint32_t i = (uint32_t)h & m->mask;; i = (i + 1) & m->mask) {
		struct keymap_slot *s = &m->slots[i];
		if (!s->used)
			return s;
		if (s->key == key &&
		    (str == NULL ? s->str == NULL :
				   (s->str && strcmp(s->str, str) == 0)))
			return s;
	}
}

static uint32_t
put(struct keymap *m, const char *str, uint64_t key, uint32_t val)
{
	struct keymap_slot *s = find(m, str, key);

	if (s->used)
		return s->val;
	if (m->n >= m->cap_keys)
		return VPC_KEYMAP_FULL;
	*s = (struct keymap_slot){ str, key, val, true };
	m->n++;
	return VPC_KEYMAP_NEW;
}

uint32_t
keymap_put_str(struct keymap *m, const char *key, uint32_t val)
{
	return put(m, key, hash_str(key), val);
}

uint32_t
keymap_put_u64(struct keymap *m, uint64_t key, uint32_t val)
{
	return put(m, NULL, key, val);
}

uint32_t
keymap_get_str(const struct keymap *m, const char *key)
{
	struct keymap_slot *s = find(m, key, hash_str(key));
	return s->used ? s->val : VPC_KEYMAP_NEW;
}

uint32_t
keymap_get_u64(const struct keymap *m, uint64_t key)
{
	struct keymap_slot *s = find(m, NULL, key);
	return s->used ? s->val : VPC_KEYMAP_NEW;
}
