/* SPDX-License-Identifier: BSD-3-Clause */
#include "conntrack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

struct vpc_ct {
	struct rte_hash *hash;
	struct vpc_ct_entry *entries;
	uint32_t *free_stack;	/* indexes of free entries */
	uint32_t n_free;
	uint32_t max;
	uint32_t cursor;	/* the sweep's position */
	struct vpc_ct_stats stats;
};

static const char *const state_names[] = {
	[VPC_CT_FREE] = "free",
	[VPC_CT_TCP_SYN_SENT] = "syn-sent",
	[VPC_CT_TCP_SYN_RECV] = "syn-recv",
	[VPC_CT_TCP_ESTABLISHED] = "established",
	[VPC_CT_TCP_FIN_WAIT] = "fin-wait",
	[VPC_CT_TCP_TIME_WAIT] = "time-wait",
	[VPC_CT_TCP_CLOSE] = "close",
	[VPC_CT_UDP] = "udp",
	[VPC_CT_ICMP] = "icmp",
	[VPC_CT_OTHER] = "other",
};

const char *
vpc_ct_state_name(unsigned int s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static uint32_t
hash_entries(uint32_t max_conns)
{
	/* Two keys per connection, and room to spare so cuckoo inserts do
	 * not fail before the entry pool is empty. */
	uint64_t n = (uint64_t)max_conns * 2 + (max_conns / 4) + 64;
	return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

uint64_t
vpc_ct_memory(uint32_t max_conns)
{
	/* entries + free stack + the hash's keys (key + 8-byte data + slot
	 * overhead) and buckets. */
	return (uint64_t)max_conns * (sizeof(struct vpc_ct_entry) + 4) +
	       (uint64_t)hash_entries(max_conns) * 96 + (4u << 20);
}

/* The hash of a key, inline (rte_hash would call its hash function
 * through a pointer for every key): CRC32-C over the 16 bytes, the same
 * function the table was created with. */
static inline uint32_t
key_hash(const struct vpc_ct_key *k)
{
	uint64_t a, b;

	memcpy(&a, k, 8);
	memcpy(&b, (const uint8_t *)k + 8, 8);
	return rte_hash_crc_8byte(b, rte_hash_crc_8byte(a, 0));
}

static uint32_t
ct_hash_func(const void *key, uint32_t len, uint32_t init)
{
	(void)len;
	(void)init;
	return key_hash(key);
}

struct vpc_ct *
vpc_ct_create(const char *name, uint32_t max_conns, int socket_id)
{
	char hname[RTE_HASH_NAMESIZE];
	struct vpc_ct *ct;

	if (max_conns == 0) {
		errno = EINVAL;
		return NULL;
	}
	ct = rte_zmalloc_socket("vpc_ct", sizeof(*ct), RTE_CACHE_LINE_SIZE, socket_id);
	if (ct == NULL)
		goto nomem;
	ct->max = max_conns;
	ct->entries = rte_zmalloc_socket("vpc_ct_entries",
					 (size_t)max_conns * sizeof(*ct->entries),
					 RTE_CACHE_LINE_SIZE, socket_id);
	ct->free_stack = rte_malloc_socket("vpc_ct_free", (size_t)max_conns * sizeof(uint32_t),
					   0, socket_id);
	if (ct->entries == NULL || ct->free_stack == NULL)
		goto nomem;
	/* Lowest indexes on top: entries are used from the start of the
	 * array, which keeps a small table's working set small. */
	for (uint32_t i = 0; i < max_conns; i++)
		ct->free_stack[i] = max_conns - 1 - i;
	ct->n_free = max_conns;
	snprintf(hname, sizeof(hname), "ct_%s", name);
	struct rte_hash_parameters p = {
		.name = hname,
		.entries = hash_entries(max_conns),
		.key_len = sizeof(struct vpc_ct_key),
		.hash_func = ct_hash_func,
		.socket_id = socket_id,
	};
	ct->hash = rte_hash_create(&p);
	if (ct->hash == NULL)
		goto nomem;
	return ct;
nomem:
	vpc_ct_free(ct);
	errno = ENOMEM;
	return NULL;
}

void
vpc_ct_free(struct vpc_ct *ct)
{
	if (ct == NULL)
		return;
	rte_hash_free(ct->hash);
	rte_free(ct->entries);
	rte_free(ct->free_stack);
	rte_free(ct);
}

void
vpc_ct_lookup_bulk(const struct vpc_ct *ct, const struct vpc_ct_key *keys, uint32_t n,
		   uint64_t *hits, uint32_t *data)
{
	const void *kp[64];
	hash_sig_t sig[64];
	void *d[64];

	for (uint32_t i = 0; i < n; i++) {
		kp[i] = &keys[i];
		sig[i] = key_hash(&keys[i]);
	}
	*hits = 0;
	if (n == 0)
		return;
	rte_hash_lookup_with_hash_bulk_data(ct->hash, kp, sig, n, hits, d);
	for (uint32_t i = 0; i < n; i++)
		data[i] = (uint32_t)(uintptr_t)d[i];
}

struct vpc_ct_entry *
vpc_ct_entry(const struct vpc_ct *ct, uint32_t idx)
{
	return &ct->entries[idx];
}

void
vpc_ct_delete(struct vpc_ct *ct, uint32_t idx)
{
	struct vpc_ct_entry *e = &ct->entries[idx];

	if (e->state == VPC_CT_FREE)
		return;
	rte_hash_del_key(ct->hash, &e->key[0]);
	rte_hash_del_key(ct->hash, &e->key[1]);
	e->state = VPC_CT_FREE;
	ct->free_stack[ct->n_free++] = idx;
}

uint32_t
vpc_ct_sweep(struct vpc_ct *ct, uint64_t now, uint32_t budget)
{
	uint32_t removed = 0;

	while (budget-- > 0) {
		uint32_t i = ct->cursor;
		ct->cursor = i + 1 == ct->max ? 0 : i + 1;
		struct vpc_ct_entry *e = &ct->entries[i];
		if (e->state != VPC_CT_FREE && e->expires <= now) {
			vpc_ct_delete(ct, i);
			ct->stats.expired++;
			removed++;
		}
	}
	return removed;
}

int
vpc_ct_create_conn(struct vpc_ct *ct, const struct vpc_ct_key *fwd,
		   const struct vpc_ct_key *rev, uint64_t now)
{
	/* rte_hash_add_key_data() overwrites a key that exists: refuse a
	 * key another connection owns instead of stealing it. */
	if (rte_hash_lookup(ct->hash, fwd) >= 0 || rte_hash_lookup(ct->hash, rev) >= 0)
		return -EEXIST;
	if (ct->n_free == 0) {
		/* Reclaim what has expired near the cursor; never a live one. */
		vpc_ct_sweep(ct, now, 256);
		if (ct->n_free == 0) {
			ct->stats.refused_full++;
			return -ENOSPC;
		}
	}
	uint32_t idx = ct->free_stack[--ct->n_free];
	struct vpc_ct_entry *e = &ct->entries[idx];
	memset(e, 0, sizeof(*e));
	e->state = VPC_CT_OTHER;	/* live from now on; the caller refines it */
	e->key[0] = *fwd;
	e->key[1] = *rev;
	int r0 = rte_hash_add_key_data(ct->hash, fwd, (void *)(uintptr_t)(idx << 1));
	if (r0 < 0)
		goto undo0;	/* -ENOSPC: no room in the hash */
	/* A connection whose two directions look the same (a packet to
	 * itself) has one key. */
	if (memcmp(fwd, rev, sizeof(*fwd)) != 0 &&
	    rte_hash_add_key_data(ct->hash, rev, (void *)(uintptr_t)(idx << 1 | 1)) < 0) {
		rte_hash_del_key(ct->hash, fwd);
		r0 = -ENOSPC;
		goto undo0;
	}
	ct->stats.created++;
	return (int)idx;
undo0:
	e->state = VPC_CT_FREE;
	ct->free_stack[ct->n_free++] = idx;
	ct->stats.refused_full++;
	return -ENOSPC;
}

void
vpc_ct_flush(struct vpc_ct *ct)
{
	rte_hash_reset(ct->hash);
	for (uint32_t i = 0; i < ct->max; i++) {
		ct->entries[i].state = VPC_CT_FREE;
		ct->free_stack[i] = ct->max - 1 - i;
	}
	ct->n_free = ct->max;
	ct->cursor = 0;
}

uint32_t
vpc_ct_count(const struct vpc_ct *ct)
{
	return ct->max - ct->n_free;
}

uint32_t
vpc_ct_capacity(const struct vpc_ct *ct)
{
	return ct->max;
}

struct vpc_ct_stats *
vpc_ct_stats(struct vpc_ct *ct)
{
	return &ct->stats;
}

int64_t
vpc_ct_next(const struct vpc_ct *ct, uint32_t *pos)
{
	while (*pos < ct->max) {
		uint32_t i = (*pos)++;
		if (ct->entries[i].state != VPC_CT_FREE)
			return i;
	}
	return -1;
}
