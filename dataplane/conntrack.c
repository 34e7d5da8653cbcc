/* SPDX-License-Identifier: BSD-3-Clause */
#define ALLOW_EXPERIMENTAL_API	/* rte_rcu_qsbr_dq_* */
#include "conntrack.h"
#include "flowlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring_elem.h>

struct vpc_ct {
	struct rte_hash *hash;
	struct vpc_ct_entry *entries;
	/* Free entries: a stack for one thread, a lock-free ring when
	 * shared. */
	uint32_t *free_stack;
	uint32_t n_free;
	struct rte_ring *free_ring;
	struct rte_rcu_qsbr *rcu;	/* non-NULL: shared */
	struct rte_rcu_qsbr_dq *dq;	/* shared: deleted entries in their grace period */
	uint32_t max;
	uint32_t n_live;	/* shared: atomic */
	uint32_t cursor;	/* the sweep's position; shared: atomic */
	uint32_t drop_cursor;	/* early drop's position; shared: atomic */
	struct vpc_ct_stats stats;	/* shared: atomic adds (never per packet) */
	struct vpc_flowlog *fl;	/* deleted connections' counters; NULL: none */
};

#define STAT_ADD(ct, field, n) __atomic_fetch_add(&(ct)->stats.field, (n), __ATOMIC_RELAXED)


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

/*
 * The entries' defer queue calls this once a deleted connection's entry is
 * safe to reuse: every reader that could hold its index has reported a
 * quiescent state since the delete.  (The hash's key slots have their own
 * defer queue, inside rte_hash.)
 */
static void
ct_reclaim(void *p, void *elem, unsigned int n)
{
	struct vpc_ct *ct = p;
	const uint32_t *idxs = elem;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t idx = idxs[k];
		__atomic_store_n(&ct->entries[idx].trk.state, VPC_CT_FREE, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&ct->n_live, 1, __ATOMIC_RELAXED);
		rte_ring_enqueue_elem(ct->free_ring, &idx, sizeof(idx));
	}
}

static struct vpc_ct *
ct_create(const char *name, uint32_t max_conns, int socket_id, struct rte_rcu_qsbr *rcu)
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
		.extra_flag = rcu == NULL ? 0 :
			RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};
	ct->hash = rte_hash_create(&p);
	if (ct->hash == NULL)
		goto nomem;
	if (rcu != NULL) {
		char rname[RTE_RING_NAMESIZE];
		snprintf(rname, sizeof(rname), "ctf_%s", name);
		ct->rcu = rcu;
		ct->free_ring = rte_ring_create_elem(rname, sizeof(uint32_t),
						     rte_align32pow2(max_conns + 1), socket_id, 0);
		if (ct->free_ring == NULL)
			goto nomem;
		for (uint32_t i = 0; i < max_conns; i++)
			rte_ring_enqueue_elem(ct->free_ring, &i, sizeof(i));
		struct rte_hash_rcu_config rc = {
			.v = rcu,
			.mode = RTE_HASH_QSBR_MODE_DQ,
			.trigger_reclaim_limit = 32,
		};
		if (rte_hash_rcu_qsbr_add(ct->hash, &rc) != 0)
			goto nomem;
		/* Entries: reclaimed as soon as their grace period is over
		 * (tried on every delete, and by vpc_ct_reclaim()), so a
		 * table that emptied has its room back at once. */
		char qname[RTE_RCU_QSBR_DQ_NAMESIZE];
		snprintf(qname, sizeof(qname), "ctq_%s", name);
		struct rte_rcu_qsbr_dq_parameters qp = {
			.name = qname,
			.size = max_conns,
			.esize = sizeof(uint32_t),
			.trigger_reclaim_limit = 0,
			.max_reclaim_size = 64,
			.free_fn = ct_reclaim,
			.p = ct,
			.v = rcu,
		};
		ct->dq = rte_rcu_qsbr_dq_create(&qp);
		if (ct->dq == NULL)
			goto nomem;
	}
	return ct;
nomem:
	vpc_ct_free(ct);
	errno = ENOMEM;
	return NULL;
}

struct vpc_ct *
vpc_ct_create(const char *name, uint32_t max_conns, int socket_id)
{
	return ct_create(name, max_conns, socket_id, NULL);
}

struct vpc_ct *
vpc_ct_create_shared(const char *name, uint32_t max_conns, int socket_id,
		     struct rte_rcu_qsbr *rcu)
{
	if (rcu == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return ct_create(name, max_conns, socket_id, rcu);
}

void
vpc_ct_free(struct vpc_ct *ct)
{
	if (ct == NULL)
		return;
	rte_hash_free(ct->hash);
	if (ct->dq != NULL)
		rte_rcu_qsbr_dq_delete(ct->dq);
	rte_ring_free(ct->free_ring);
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

	if (ct->rcu == NULL) {
		if (e->trk.state == VPC_CT_FREE)
			return;
		if (ct->fl != NULL) {
			vpc_flowlog_conn(ct->fl, e, 0);
			vpc_flowlog_conn(ct->fl, e, 1);
		}
		rte_hash_del_key(ct->hash, &e->key[0]);
		rte_hash_del_key(ct->hash, &e->key[1]);
		e->trk.state = VPC_CT_FREE;
		ct->free_stack[ct->n_free++] = idx;
		return;
	}
	/* Shared: the deleter that moves the state to DYING deletes the keys;
	 * the entry returns to the pool from ct_reclaim(), after the grace
	 * period.  (The state may change under us through a packet's plain
	 * store: retry a few times.) */
	for (int tries = 0; tries < 8; tries++) {
		uint8_t cur = __atomic_load_n(&e->trk.state, __ATOMIC_ACQUIRE);
		if (cur == VPC_CT_FREE || cur == VPC_CT_DYING)
			return;
		if (__atomic_compare_exchange_n(&e->trk.state, &cur, VPC_CT_DYING, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
		if (tries == 7)
			return;
	}
	/* Ours: its last counters (a packet racing on the other lcore may
	 * still add one, not counted). */
	if (ct->fl != NULL) {
		vpc_flowlog_conn(ct->fl, e, 0);
		vpc_flowlog_conn(ct->fl, e, 1);
	}
	rte_hash_del_key(ct->hash, &e->key[0]);
	if (memcmp(&e->key[0], &e->key[1], sizeof(e->key[0])) != 0)
		rte_hash_del_key(ct->hash, &e->key[1]);
	/* The entry returns to the pool after the grace period.  (The queue
	 * holds every entry: an enqueue cannot fail for room.) */
	rte_rcu_qsbr_dq_enqueue(ct->dq, &idx);
}

void
vpc_ct_reclaim(struct vpc_ct *ct)
{
	unsigned int freed, pending, avail;

	if (ct->dq != NULL)
		rte_rcu_qsbr_dq_reclaim(ct->dq, UINT32_MAX, &freed, &pending, &avail);
}

/* The entry at a rotating cursor, and the cursor moved on (shared: an
 * atomic add, so lcores sweeping at once look at different entries). */
static inline uint32_t
cursor_next(struct vpc_ct *ct, uint32_t *cursor)
{
	if (ct->rcu == NULL) {
		uint32_t i = *cursor;
		*cursor = i + 1 == ct->max ? 0 : i + 1;
		return i;
	}
	return __atomic_fetch_add(cursor, 1, __ATOMIC_RELAXED) % ct->max;
}

/* A connection that is neither free nor being deleted. */
static inline bool
entry_live(const struct vpc_ct_entry *e)
{
	uint8_t st = __atomic_load_n(&e->trk.state, __ATOMIC_RELAXED);
	return st != VPC_CT_FREE && st != VPC_CT_DYING;
}

uint32_t
vpc_ct_sweep(struct vpc_ct *ct, uint64_t now, uint32_t budget)
{
	uint32_t removed = 0;

	while (budget-- > 0) {
		uint32_t i = cursor_next(ct, &ct->cursor);
		struct vpc_ct_entry *e = &ct->entries[i];
		if (entry_live(e) && e->expires <= now) {
			vpc_ct_delete(ct, i);
			STAT_ADD(ct, expired, 1);
			removed++;
		}
	}
	return removed;
}

static bool
take_entry(struct vpc_ct *ct, uint32_t *idx)
{
	if (ct->rcu == NULL) {
		if (ct->n_free == 0)
			return false;
		*idx = ct->free_stack[--ct->n_free];
		return true;
	}
	if (rte_ring_dequeue_elem(ct->free_ring, idx, sizeof(*idx)) != 0)
		return false;
	__atomic_fetch_add(&ct->n_live, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * The table is full.  Reclaim what finished its grace period, then what
 * has expired near the sweep's cursor; if that is not enough, drop one
 * connection that never saw a reply (as Linux's early drop does), never
 * one whose other side answered.  Each step examines a bounded number of
 * entries, so a flood of new connections into a full table stays cheap.
 * Shared: an entry freed here returns to the pool after the grace period
 * (a following connection gets it).
 */
#define ROOM_SCAN 64

static bool
make_room(struct vpc_ct *ct, uint64_t now, uint32_t *idx)
{
	vpc_ct_reclaim(ct);
	if (take_entry(ct, idx))
		return true;
	if (vpc_ct_sweep(ct, now, ROOM_SCAN) > 0) {
		vpc_ct_reclaim(ct);
		if (take_entry(ct, idx))
			return true;
	}
	for (uint32_t k = 0; k < ROOM_SCAN; k++) {
		uint32_t i = cursor_next(ct, &ct->drop_cursor);
		struct vpc_ct_entry *e = &ct->entries[i];
		if (entry_live(e) && vpc_ct_unreplied(&e->trk)) {
			vpc_ct_delete(ct, i);
			STAT_ADD(ct, early_dropped, 1);
			vpc_ct_reclaim(ct);
			return take_entry(ct, idx);
		}
	}
	return false;
}

int
vpc_ct_create_conn(struct vpc_ct *ct, const struct vpc_ct_key *fwd,
		   const struct vpc_ct_key *rev, uint64_t now,
		   const struct vpc_ct_entry *init)
{
	uint32_t idx;

	/* rte_hash_add_key_data() overwrites a key that exists: refuse a
	 * key another connection owns instead of stealing it.  (Shared: two
	 * lcores creating the same connection at once may both pass this;
	 * the second add then re-points the key at its own entry and the
	 * first entry is left to expire -- a wasted entry, never a wrong
	 * forward.) */
	if (rte_hash_lookup(ct->hash, fwd) >= 0 || rte_hash_lookup(ct->hash, rev) >= 0)
		return -EEXIST;
	if (!take_entry(ct, &idx) && !make_room(ct, now, &idx)) {
		STAT_ADD(ct, refused_full, 1);
		return -ENOSPC;
	}
	struct vpc_ct_entry *e = &ct->entries[idx];
	*e = *init;
	if (e->trk.state == VPC_CT_FREE || e->trk.state == VPC_CT_DYING)
		e->trk.state = VPC_CT_OTHER;	/* live from now on */
	e->key[0] = *fwd;
	e->key[1] = *rev;
	/* The entry is complete; the adds publish it (release ordering
	 * inside rte_hash's lock-free mode). */
	if (rte_hash_add_key_data(ct->hash, fwd, (void *)(uintptr_t)(idx << 1)) < 0)
		goto undo;
	/* A connection whose two directions look the same (a packet to
	 * itself) has one key. */
	if (memcmp(fwd, rev, sizeof(*fwd)) != 0 &&
	    rte_hash_add_key_data(ct->hash, rev, (void *)(uintptr_t)(idx << 1 | 1)) < 0) {
		/* Make it a one-key connection, so that the reclamation of
		 * the forward key returns the entry. */
		e->key[1] = e->key[0];
		vpc_ct_delete(ct, idx);
		STAT_ADD(ct, refused_full, 1);
		return -ENOSPC;
	}
	STAT_ADD(ct, created, 1);
	return (int)idx;
undo:
	if (ct->rcu == NULL) {
		e->trk.state = VPC_CT_FREE;
		ct->free_stack[ct->n_free++] = idx;
	} else {
		__atomic_store_n(&e->trk.state, VPC_CT_FREE, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&ct->n_live, 1, __ATOMIC_RELAXED);
		rte_ring_enqueue_elem(ct->free_ring, &idx, sizeof(idx));
	}
	STAT_ADD(ct, refused_full, 1);
	return -ENOSPC;
}

void
vpc_ct_flush(struct vpc_ct *ct)
{
	if (ct->rcu != NULL) {
		/* No reset under readers: delete one by one. */
		for (uint32_t i = 0; i < ct->max; i++)
			vpc_ct_delete(ct, i);
		return;
	}
	rte_hash_reset(ct->hash);
	for (uint32_t i = 0; i < ct->max; i++) {
		ct->entries[i].trk.state = VPC_CT_FREE;
		ct->free_stack[i] = ct->max - 1 - i;
	}
	ct->n_free = ct->max;
	ct->cursor = 0;
}

uint32_t
vpc_ct_count(const struct vpc_ct *ct)
{
	if (ct->rcu != NULL)
		return __atomic_load_n(&ct->n_live, __ATOMIC_RELAXED);
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

void
vpc_ct_set_flowlog(struct vpc_ct *ct, struct vpc_flowlog *fl)
{
	ct->fl = fl;
}

int64_t
vpc_ct_next(const struct vpc_ct *ct, uint32_t *pos)
{
	while (*pos < ct->max) {
		uint32_t i = (*pos)++;
		if (entry_live(&ct->entries[i]))
			return i;
	}
	return -1;
}
