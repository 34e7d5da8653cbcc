/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd_store.h -- what vpcctl keeps in etcd, and how (docs/cli.md, "The
 * topology in etcd").  Under one prefix P (default /vpc):
 *
 *   P/topology      the topology file, zlib-compressed (a value that is
 *                   not a zlib stream is taken as the YAML itself, so
 *                   `etcdctl put P/topology "$(cat f.yaml)"` works too).
 *                   Its mod_revision is "the revision" everywhere.
 *   P/published     JSON about the last publish: {"time", "file",
 *                   "size", "stored"}; written in the same transaction
 *   P/status/HOST   JSON, one host's agent: {"host", "seen", "applied",
 *                   "time", "time_us", "compile_us", "error"}
 *
 * Why compressed: etcd refuses a request over 1.5 MiB by default
 * (--max-request-bytes), and a fleet's topology (100 hosts x 100
 * interfaces) is about that size as YAML; zlib makes it a tenth.
 *
 * Pure functions: tested by tests/test_etcd.c.
 */
#ifndef VPC_ETCD_STORE_H
#define VPC_ETCD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd.h"

#define VPC_STORE_DEFAULT_PREFIX "/vpc"
/* A decompressed topology larger than this is refused. */
#define VPC_STORE_TOPOLOGY_MAX (256u << 20)

/* The keys under one prefix. */
struct vpc_store_keys {
	char topology[256];
	char published[256];
	char status[256];	/* the status prefix, ending in / */
};

/* The keys under prefix (a trailing / ignored).  -ENAMETOOLONG or 0. */
int vpc_store_keys_init(struct vpc_store_keys *k, const char *prefix);

/* A topology file's bytes as stored (zlib), and back (either form).
 * *out is malloc'd; unpack NUL-terminates it (not counted in *size).
 * 0, -ENOMEM, or -EINVAL (unpack: a damaged stream; or over the limit). */
int vpc_store_pack(const void *data, size_t size, uint8_t **out, size_t *out_size);
int vpc_store_unpack(const void *data, size_t size, uint8_t **out, size_t *out_size);

/*
 * One host's status, as its agent writes it.
 *   seen:     the last revision of the topology the agent processed
 *   applied:  the last one it applied (seen, unless seen failed)
 *   error:    why seen was not applied (NULL when it was)
 */
struct vpc_host_status {
	char *host;
	int64_t seen;
	int64_t applied;
	int64_t time_us;	/* when seen was processed: Unix time, microseconds */
	int64_t compile_us;	/* what compiling seen took */
	char *error;
};

/* JSON text (owned by the caller), or NULL (ENOMEM). */
char *vpc_host_status_json(const struct vpc_host_status *s);
/* Parse; 0 or -EPROTO (err says why).  Free with vpc_host_status_clear. */
int vpc_host_status_parse(const char *json, size_t len, struct vpc_host_status *s, char *err,
			  size_t err_size);
void vpc_host_status_clear(struct vpc_host_status *s);

/* "2024-05-01T10:00:00.123Z" (UTC, milliseconds) into buf (>= 32 bytes). */
void vpc_store_time(int64_t time_us, char *buf, size_t size);

/* Where a host stands with revision rev. */
enum vpc_host_verdict {
	VPC_HOST_APPLIED,	/* applied rev, or a later one */
	VPC_HOST_PENDING,	/* has not processed rev yet */
	VPC_HOST_FAILED,	/* processed rev (or later) and failed */
};
enum vpc_host_verdict vpc_host_verdict(const struct vpc_host_status *s, int64_t rev);

/*
 * The one topology event of a watch message to process, given the last
 * revision processed: the last PUT of the topology key newer than seen
 * (earlier ones in the same message are superseded: applying only the
 * newest state loses no update).  NULL: none.
 */
const struct vpc_etcd_kv *vpc_store_next_event(const struct vpc_etcd_watch_msg *msg,
					       const char *topology_key, int64_t seen);

#endif /* VPC_ETCD_STORE_H */
