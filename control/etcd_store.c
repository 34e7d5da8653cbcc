/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd_store.c -- the key layout and the values of etcd_store.h.
 */
#include "etcd_store.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

int
vpc_store_keys_init(struct vpc_store_keys *k, const char *prefix)
{
	size_t n = strlen(prefix);
	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n > 200)
		return -ENAMETOOLONG;
	snprintf(k->topology, sizeof(k->topology), "%.*s/topology", (int)n, prefix);
	snprintf(k->published, sizeof(k->published), "%.*s/published", (int)n, prefix);
	snprintf(k->status, sizeof(k->status), "%.*s/status/", (int)n, prefix);
	return 0;
}

int
vpc_store_pack(const void *data, size_t size, uint8_t **out, size_t *out_size)
{
	uLongf n = compressBound(size);
	uint8_t *p = malloc(n);
	if (p == NULL)
		return -ENOMEM;
	if (compress2(p, &n, data, size, Z_BEST_COMPRESSION) != Z_OK) {
		free(p);
		return -ENOMEM;
	}
	*out = p;
	*out_size = n;
	return 0;
}

/* A zlib stream's two-byte header (RFC 1950): deflate, a window of at
 * most 32 KiB, the check bits right, no preset dictionary. */
static bool
is_zlib(const uint8_t *p, size_t size)
{
	return size >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	       ((unsigned)p[0] << 8 | p[1]) % 31 == 0 && !(p[1] & 0x20);
}

int
vpc_store_unpack(const void *data, size_t size, uint8_t **out, size_t *out_size)
{
	if (!is_zlib(data, size)) {
		/* stored as it is: the YAML itself */
		uint8_t *p = malloc(size + 1);
		if (p == NULL)
			return -ENOMEM;
		memcpy(p, data, size);
		p[size] = '\0';
		*out = p;
		*out_size = size;
		return 0;
	}
	z_stream z = { .next_in = (Bytef *)(uintptr_t)data, .avail_in = (uInt)size };
	if (size > UINT32_MAX || inflateInit(&z) != Z_OK)
		return -ENOMEM;
	size_t cap = size * 8 + 1024, len = 0;
	uint8_t *p = NULL;
	int r = 0;
	for (;;) {
		if (len + 1 >= cap || p == NULL) {
			if (p != NULL)
				cap *= 2;
			uint8_t *q = cap > VPC_STORE_TOPOLOGY_MAX + 1 ? NULL : realloc(p, cap);
			if (q == NULL) {
				r = cap > VPC_STORE_TOPOLOGY_MAX + 1 ? -EINVAL : -ENOMEM;
				break;
			}
			p = q;
		}
		z.next_out = p + len;
		z.avail_out = (uInt)(cap - len - 1);
		int zr = inflate(&z, Z_NO_FLUSH);
		len = cap - 1 - z.avail_out;
		if (zr == Z_STREAM_END) {
			if (z.avail_in != 0)
				r = -EINVAL;	/* bytes after the stream */
			break;
		}
		/* Z_BUF_ERROR: no progress; with room left, the input is cut short */
		if ((zr != Z_OK && zr != Z_BUF_ERROR) || z.avail_out > 0) {
			r = -EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	if (r < 0) {
		free(p);
		return r;
	}
	p[len] = '\0';
	*out = p;
	*out_size = len;
	return 0;
}

void
vpc_store_time(int64_t time_us, char *buf, size_t size)
{
	time_t s = (time_t)(time_us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char day[24];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", day, (int)(time_us % 1000000 / 1000));
}

static void
add_i64(struct json_object *o, const char *name, int64_t v)
{
	json_object_object_add(o, name, json_object_new_int64(v));
}

char *
vpc_host_status_json(const struct vpc_host_status *s)
{
	struct json_object *o = json_object_new_object();
	char t[40];
	vpc_store_time(s->time_us, t, sizeof(t));
	json_object_object_add(o, "host", json_object_new_string(s->host));
	add_i64(o, "seen", s->seen);
	add_i64(o, "applied", s->applied);
	json_object_object_add(o, "time", json_object_new_string(t));
	add_i64(o, "time_us", s->time_us);
	add_i64(o, "compile_us", s->compile_us);
	json_object_object_add(o, "error", s->error ? json_object_new_string(s->error) : NULL);
	char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

static int
need_i64(struct json_object *o, const char *name, int64_t *v)
{
	struct json_object *f;
	if (!json_object_object_get_ex(o, name, &f) || !json_object_is_type(f, json_type_int))
		return -EPROTO;
	*v = json_object_get_int64(f);
	return *v < 0 ? -EPROTO : 0;
}

void
vpc_host_status_clear(struct vpc_host_status *s)
{
	free(s->host);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

int
vpc_host_status_parse(const char *json, size_t len, struct vpc_host_status *s, char *err,
		      size_t err_size)
{
	memset(s, 0, sizeof(*s));
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL, *f;
	bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
		     strspn(json + json_tokener_get_parse_end(tok), " \t\r\n") ==
			     len - json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	const char *what = NULL;
	if (o == NULL || !whole || !json_object_is_type(o, json_type_object))
		what = "not a JSON object";
	else if (!json_object_object_get_ex(o, "host", &f) || !json_object_is_type(f, json_type_string))
		what = "no \"host\" string";
	else if ((s->host = strdup(json_object_get_string(f))) == NULL)
		what = "out of memory";
	else if (need_i64(o, "seen", &s->seen) < 0 || need_i64(o, "applied", &s->applied) < 0 ||
		 need_i64(o, "time_us", &s->time_us) < 0 ||
		 need_i64(o, "compile_us", &s->compile_us) < 0)
		what = "\"seen\", \"applied\", \"time_us\" and \"compile_us\" must be integers >= 0";
	else if (s->applied > s->seen)
		what = "\"applied\" is past \"seen\"";
	else if (json_object_object_get_ex(o, "error", &f) && f != NULL) {
		if (!json_object_is_type(f, json_type_string))
			what = "\"error\" must be a string or null";
		else if ((s->error = strdup(json_object_get_string(f))) == NULL)
			what = "out of memory";
	}
	json_object_put(o);
	if (what != NULL) {
		snprintf(err, err_size, "%s", what);
		vpc_host_status_clear(s);
		return -EPROTO;
	}
	return 0;
}

enum vpc_host_verdict
vpc_host_verdict(const struct vpc_host_status *s, int64_t rev)
{
	if (s->applied >= rev)
		return VPC_HOST_APPLIED;
	if (s->seen >= rev)
		return VPC_HOST_FAILED;
	return VPC_HOST_PENDING;
}

const struct vpc_etcd_kv *
vpc_store_next_event(const struct vpc_etcd_watch_msg *msg, const char *topology_key, int64_t seen)
{
	const struct vpc_etcd_kv *next = NULL;
	for (size_t i = 0; i < msg->n_events; i++) {
		const struct vpc_etcd_kv *kv = &msg->events[i];
		if (!kv->deleted && kv->mod_revision > seen && strcmp(kv->key, topology_key) == 0)
			next = kv;
	}
	return next;
}
