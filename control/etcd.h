/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd.h -- the little of etcd's v3 API that vpcctl uses (publish, status,
 * agent), through etcd's JSON gateway (/v3/kv/range, /v3/kv/txn,
 * /v3/watch) with libcurl for HTTP and json-c for JSON.  Nothing here
 * speaks HTTP or gRPC by hand: a request is a JSON object built with
 * json-c and POSTed by libcurl; keys and values travel in base64, as the
 * gateway wants (protobuf's JSON mapping of `bytes`), and 64-bit integers
 * as decimal strings.
 *
 * The request builders and answer parsers are exported so that the unit
 * tests (tests/test_etcd.c) check them without an etcd.
 *
 * Errors: int functions return 0 or a negative errno (-ECONNREFUSED,
 * -EPROTO for an answer that is not what the gateway sends, -EIO for an
 * error etcd answered); the message, naming the URL and the cause, is
 * vpc_etcd_error().
 *
 * Thread-safety: a struct vpc_etcd belongs to one thread.  Its watch
 * holds its HTTP handle for the stream's life; requests made from a watch
 * callback must use another struct vpc_etcd.
 */
#ifndef VPC_ETCD_H
#define VPC_ETCD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vpc_etcd;

/* One key and its value, as a range or a watch event gives it. */
struct vpc_etcd_kv {
	char *key;		/* NUL-terminated; owned */
	uint8_t *value;		/* owned; NUL-terminated for convenience (not counted in size) */
	size_t size;
	int64_t mod_revision;	/* the store's revision of the key's last write */
	int64_t version;	/* writes since the key was created */
	bool deleted;		/* a watch's DELETE event */
};

/* A range's answer: the keys found and the store's revision then. */
struct vpc_etcd_kvs {
	struct vpc_etcd_kv *kvs;
	size_t n_kvs;
	int64_t revision;	/* the header's: the state read is the store's at it */
};

/* One message of a watch stream. */
struct vpc_etcd_watch_msg {
	bool created;
	bool canceled;
	int64_t compact_revision;	/* canceled because the start was compacted: the oldest kept */
	int64_t revision;		/* the header's */
	struct vpc_etcd_kv *events;	/* in revision order */
	size_t n_events;
	char *cancel_reason;		/* or NULL */
};

/* One put of a transaction. */
struct vpc_etcd_put {
	const char *key;
	const void *value;
	size_t size;
};

/*
 * A client of the etcd at url (http://HOST:PORT; a trailing / ignored).
 * Returns NULL with errno (EINVAL: not an http(s) URL; ENOMEM).  Nothing
 * is sent until the first request.
 */
struct vpc_etcd *vpc_etcd_open(const char *url);
void vpc_etcd_close(struct vpc_etcd *e);

/* The last error's message: "etcd URL: cause". */
const char *vpc_etcd_error(const struct vpc_etcd *e);

/*
 * Read key (prefix: every key that starts with key).  out is filled (free
 * with vpc_etcd_kvs_free).
 */
int vpc_etcd_range(struct vpc_etcd *e, const char *key, bool prefix, struct vpc_etcd_kvs *out);

/* Write the n puts in one transaction; *revision: the store's after it. */
int vpc_etcd_txn_put(struct vpc_etcd *e, const struct vpc_etcd_put *puts, size_t n,
		     int64_t *revision);

/*
 * A watch callback: one message of the stream.  Returns 0 to go on, or
 * any other value to end the watch (vpc_etcd_watch returns it).
 */
typedef int (*vpc_etcd_watch_cb)(void *arg, const struct vpc_etcd_watch_msg *msg);

/*
 * Watch key (prefix: every key under it) from start_revision on, calling
 * cb for each message, until cb returns nonzero (returned), the stream
 * ends or fails (-ECONNRESET, -ECONNREFUSED, ...), or *quit becomes
 * nonzero (checked at least once a second; returns -EINTR).  A canceled
 * watch (compaction) is a message like the others: cb decides.
 */
int vpc_etcd_watch(struct vpc_etcd *e, const char *key, bool prefix, int64_t start_revision,
		   vpc_etcd_watch_cb cb, void *arg, volatile sig_atomic_t *quit);

void vpc_etcd_kvs_free(struct vpc_etcd_kvs *kvs);
void vpc_etcd_watch_msg_free(struct vpc_etcd_watch_msg *msg);

/* ---- encoding, exported for the unit tests ---- */

/* Base64 (RFC 4648, padded).  NULL with errno ENOMEM. */
char *vpc_etcd_b64_encode(const void *data, size_t size);
/* Decodes text (padded or not; no whitespace).  *out is NUL-terminated
 * (not counted in *size).  0, -EINVAL (not base64) or -ENOMEM. */
int vpc_etcd_b64_decode(const char *text, uint8_t **out, size_t *size);

/* The range_end that makes [key, end) every key starting with key (the
 * key with its last byte below 0xff incremented).  Owned by the caller. */
char *vpc_etcd_prefix_end(const char *key);

/* The gateway's request bodies (JSON text, owned by the caller). */
char *vpc_etcd_range_request(const char *key, bool prefix);
char *vpc_etcd_txn_request(const struct vpc_etcd_put *puts, size_t n);
char *vpc_etcd_watch_request(const char *key, bool prefix, int64_t start_revision);

/*
 * Parse the gateway's answers: a range's, a transaction's (*revision: the
 * header's), one watch message.  0, or -EPROTO (err says what was wrong)
 * or -EIO (etcd answered an error: err holds its message).
 */
int vpc_etcd_range_parse(const char *json, size_t len, struct vpc_etcd_kvs *out, char *err,
			 size_t err_size);
int vpc_etcd_txn_parse(const char *json, size_t len, int64_t *revision, char *err,
		       size_t err_size);
int vpc_etcd_watch_parse(const char *json, size_t len, struct vpc_etcd_watch_msg *out, char *err,
			 size_t err_size);

#endif /* VPC_ETCD_H */
