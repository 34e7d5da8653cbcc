/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd.c -- etcd's v3 JSON gateway through libcurl and json-c (etcd.h).
 *
 * The gateway maps each gRPC call to POST /v3/<service>/<method> with the
 * request message as JSON; a server stream (Watch) comes back as one JSON
 * object per line, {"result": message} or {"error": status}.  protobuf's
 * JSON mapping writes bytes as base64, 64-bit integers as strings, and
 * leaves out fields at their default (a PUT event has no "type"; an empty
 * value no "value").
 */
#include "etcd.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unary request's whole time, and any request's connect. */
#define ETCD_REQUEST_TIMEOUT_MS 10000L
#define ETCD_CONNECT_TIMEOUT_MS 2000L
/* An answer larger than this is refused (a topology is at most etcd's
 * request limit, 1.5 MiB by default, base64'd). */
#define ETCD_ANSWER_MAX (64u << 20)

struct vpc_etcd {
	char *url;		/* without a trailing / */
	CURL *curl;		/* reused: keeps the connection */
	char err[512];
};

/* A growing buffer of what curl received. */
struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void __attribute__((format(printf, 2, 3)))
seterr(struct vpc_etcd *e, const char *fmt, ...)
{
	int n = snprintf(e->err, sizeof(e->err), "etcd %s: ", e->url);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(e->err))
		vsnprintf(e->err + n, sizeof(e->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- base64 ---- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
vpc_etcd_b64_encode(const void *data, size_t size)
{
	const uint8_t *in = data;
	char *out = malloc((size + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	char *o = out;
	size_t i = 0;
	for (; i + 2 < size; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = b64_chars[(v >> 6) & 63];
		*o++ = b64_chars[v & 63];
	}
	if (i < size) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < size ? (uint32_t)in[i + 1] << 8 : 0);
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < size ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
b64_value(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;
	return p ? (int)(p - b64_chars) : -1;
}

int
vpc_etcd_b64_decode(const char *text, uint8_t **out, size_t *size)
{
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '=')
		len--;
	if (len % 4 == 1 || strlen(text) - len > 2)
		return -EINVAL;
	uint8_t *o = malloc(len / 4 * 3 + 3);
	if (o == NULL)
		return -ENOMEM;
	size_t n = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(text[i]);
		if (v < 0) {
			free(o);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			o[n++] = (uint8_t)(acc >> 16);
			o[n++] = (uint8_t)(acc >> 8);
			o[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (len % 4 == 2) {
		o[n++] = (uint8_t)(acc >> 4);
	} else if (len % 4 == 3) {
		o[n++] = (uint8_t)(acc >> 10);
		o[n++] = (uint8_t)(acc >> 2);
	}
	o[n] = '\0';
	*out = o;
	*size = n;
	return 0;
}

char *
vpc_etcd_prefix_end(const char *key)
{
	char *end = strdup(key);
	if (end == NULL)
		return NULL;
	for (size_t i = strlen(end); i-- > 0;) {
		if ((uint8_t)end[i] < 0xff) {
			end[i]++;
			end[i + 1] = '\0';
			return end;
		}
	}
	/* every byte 0xff (or empty): every key from key on ("\0") */
	end[0] = '\0';
	return end;
}

/* ---- request bodies ---- */

static int
add_b64(struct json_object *o, const char *name, const void *data, size_t size)
{
	char *s = vpc_etcd_b64_encode(data, size);
	if (s == NULL)
		return -ENOMEM;
	json_object_object_add(o, name, json_object_new_string(s));
	free(s);
	return 0;
}

/* key, and range_end for a prefix (AA== for the empty key: every key) */
static int
add_key_range(struct json_object *o, const char *key, bool prefix)
{
	if (add_b64(o, "key", key, strlen(key)) < 0)
		return -ENOMEM;
	if (prefix) {
		char *end = vpc_etcd_prefix_end(key);
		if (end == NULL)
			return -ENOMEM;
		int r = end[0] ? add_b64(o, "range_end", end, strlen(end))
			       : add_b64(o, "range_end", "", 1);
		free(end);
		return r;
	}
	return 0;
}

/* The text of o (freed), or NULL. */
static char *
json_take(struct json_object *o, int ok)
{
	char *s = NULL;
	if (ok == 0)
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *
vpc_etcd_range_request(const char *key, bool prefix)
{
	struct json_object *o = json_object_new_object();
	return json_take(o, add_key_range(o, key, prefix));
}

char *
vpc_etcd_txn_request(const struct vpc_etcd_put *puts, size_t n)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ops = json_object_new_array();
	int r = 0;
	json_object_object_add(o, "success", ops);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *put = json_object_new_object();
		struct json_object *op = json_object_new_object();
		json_object_object_add(op, "request_put", put);
		json_object_array_add(ops, op);
		r = add_b64(put, "key", puts[i].key, strlen(puts[i].key));
		if (r == 0)
			r = add_b64(put, "value", puts[i].value, puts[i].size);
	}
	return json_take(o, r);
}

char *
vpc_etcd_watch_request(const char *key, bool prefix, int64_t start_revision)
{
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();
	json_object_object_add(o, "create_request", c);
	int r = add_key_range(c, key, prefix);
	if (r == 0 && start_revision > 0) {
		char rev[24];
		snprintf(rev, sizeof(rev), "%" PRId64, start_revision);
		json_object_object_add(c, "start_revision", json_object_new_string(rev));
	}
	return json_take(o, r);
}

/* ---- answers ---- */

/* An int64 field (a string in the gateway's JSON; absent: 0). */
static int
get_i64(struct json_object *o, const char *name, int64_t *v)
{
	struct json_object *f;
	*v = 0;
	if (!json_object_object_get_ex(o, name, &f))
		return 0;
	if (json_object_is_type(f, json_type_int)) {
		*v = json_object_get_int64(f);
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return -EPROTO;
	const char *s = json_object_get_string(f);
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EPROTO;
	*v = x;
	return 0;
}

static bool
get_bool(struct json_object *o, const char *name)
{
	struct json_object *f;
	return json_object_object_get_ex(o, name, &f) && json_object_get_boolean(f);
}

/* A message's header revision. */
static int
header_revision(struct json_object *o, int64_t *rev)
{
	struct json_object *h;
	*rev = 0;
	if (!json_object_object_get_ex(o, "header", &h))
		return -EPROTO;
	return get_i64(h, "revision", rev);
}

/* An error answer ({"error": "...", "message": "...", "code": N} from a
 * unary call; {"error": {"message": ...}} in a stream): -EIO with its
 * message in err.  0 if o is no error. */
static int
answer_error(struct json_object *o, char *err, size_t err_size)
{
	struct json_object *e, *m;
	if (!json_object_object_get_ex(o, "error", &e))
		return 0;
	if (json_object_object_get_ex(o, "message", &m) ||
	    (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "message", &m)))
		snprintf(err, err_size, "%s", json_object_get_string(m));
	else
		snprintf(err, err_size, "%s", json_object_get_string(e));
	return -EIO;
}

static int
kv_parse(struct json_object *o, struct vpc_etcd_kv *kv)
{
	struct json_object *k, *v;
	memset(kv, 0, sizeof(*kv));
	size_t klen;
	if (!json_object_object_get_ex(o, "key", &k) || !json_object_is_type(k, json_type_string) ||
	    vpc_etcd_b64_decode(json_object_get_string(k), (uint8_t **)&kv->key, &klen) < 0)
		return -EPROTO;
	if (json_object_object_get_ex(o, "value", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    vpc_etcd_b64_decode(json_object_get_string(v), &kv->value, &kv->size) < 0)
			return -EPROTO;
	} else {
		kv->value = calloc(1, 1);
		if (kv->value == NULL)
			return -ENOMEM;
	}
	if (get_i64(o, "mod_revision", &kv->mod_revision) < 0 ||
	    get_i64(o, "version", &kv->version) < 0)
		return -EPROTO;
	return 0;
}

static void
kv_free(struct vpc_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
}

/* Parse text as one JSON object; NULL with err set. */
static struct json_object *
parse_object(const char *json, size_t len, char *err, size_t err_size)
{
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success || !json_object_is_type(o, json_type_object) ||
	    end > len || strspn(json + end, " \t\r\n") != len - end) {
		snprintf(err, err_size, "not a JSON object: %.60s%s", json,
			 len > 60 ? "..." : "");
		json_object_put(o);
		return NULL;
	}
	return o;
}

int
vpc_etcd_range_parse(const char *json, size_t len, struct vpc_etcd_kvs *out, char *err,
		     size_t err_size)
{
	memset(out, 0, sizeof(*out));
	struct json_object *o = parse_object(json, len, err, err_size), *kvs;
	if (o == NULL)
		return -EPROTO;
	int r = answer_error(o, err, err_size);
	if (r == 0 && header_revision(o, &out->revision) < 0) {
		snprintf(err, err_size, "a range answer without a header revision");
		r = -EPROTO;
	}
	if (r == 0 && json_object_object_get_ex(o, "kvs", &kvs)) {
		size_t n = json_object_is_type(kvs, json_type_array) ? json_object_array_length(kvs) : 0;
		out->kvs = calloc(n ? n : 1, sizeof(*out->kvs));
		if (out->kvs == NULL)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			r = kv_parse(json_object_array_get_idx(kvs, i), &out->kvs[i]);
			out->n_kvs = i + 1;
			if (r < 0)
				snprintf(err, err_size, "a range answer's key %zu is malformed", i);
		}
	}
	json_object_put(o);
	if (r < 0)
		vpc_etcd_kvs_free(out);
	return r;
}

int
vpc_etcd_txn_parse(const char *json, size_t len, int64_t *revision, char *err, size_t err_size)
{
	struct json_object *o = parse_object(json, len, err, err_size);
	if (o == NULL)
		return -EPROTO;
	int r = answer_error(o, err, err_size);
	if (r == 0 && (header_revision(o, revision) < 0 || *revision <= 0)) {
		snprintf(err, err_size, "a transaction answer without a header revision");
		r = -EPROTO;
	}
	if (r == 0 && !get_bool(o, "succeeded")) {
		snprintf(err, err_size, "the transaction did not succeed");
		r = -EIO;
	}
	json_object_put(o);
	return r;
}

int
vpc_etcd_watch_parse(const char *json, size_t len, struct vpc_etcd_watch_msg *out, char *err,
		     size_t err_size)
{
	memset(out, 0, sizeof(*out));
	struct json_object *o = parse_object(json, len, err, err_size), *res, *evs, *f;
	if (o == NULL)
		return -EPROTO;
	int r = answer_error(o, err, err_size);
	if (r == 0 && !json_object_object_get_ex(o, "result", &res)) {
		snprintf(err, err_size, "a watch message without a result");
		r = -EPROTO;
	}
	if (r == 0) {
		out->created = get_bool(res, "created");
		out->canceled = get_bool(res, "canceled");
		if (get_i64(res, "compact_revision", &out->compact_revision) < 0)
			r = -EPROTO;
		/* the header's revision is absent from a cancellation's */
		struct json_object *h;
		if (json_object_object_get_ex(res, "header", &h) &&
		    get_i64(h, "revision", &out->revision) < 0)
			r = -EPROTO;
		if (json_object_object_get_ex(res, "cancel_reason", &f) &&
		    (out->cancel_reason = strdup(json_object_get_string(f))) == NULL)
			r = -ENOMEM;
		if (r == -EPROTO)
			snprintf(err, err_size, "a watch message with a malformed revision");
	}
	if (r == 0 && json_object_object_get_ex(res, "events", &evs)) {
		size_t n = json_object_is_type(evs, json_type_array) ? json_object_array_length(evs) : 0;
		out->events = calloc(n ? n : 1, sizeof(*out->events));
		if (out->events == NULL)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct json_object *ev = json_object_array_get_idx(evs, i), *kv, *t;
			if (!json_object_object_get_ex(ev, "kv", &kv)) {
				r = -EPROTO;
			} else {
				r = kv_parse(kv, &out->events[i]);
				out->n_events = i + 1;
				out->events[i].deleted = json_object_object_get_ex(ev, "type", &t) &&
							 strcmp(json_object_get_string(t), "DELETE") == 0;
			}
			if (r < 0)
				snprintf(err, err_size, "a watch message's event %zu is malformed", i);
		}
	}
	json_object_put(o);
	if (r < 0)
		vpc_etcd_watch_msg_free(out);
	return r;
}

void
vpc_etcd_kvs_free(struct vpc_etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n_kvs; i++)
		kv_free(&kvs->kvs[i]);
	free(kvs->kvs);
	memset(kvs, 0, sizeof(*kvs));
}

void
vpc_etcd_watch_msg_free(struct vpc_etcd_watch_msg *msg)
{
	for (size_t i = 0; i < msg->n_events; i++)
		kv_free(&msg->events[i]);
	free(msg->events);
	free(msg->cancel_reason);
	memset(msg, 0, sizeof(*msg));
}

/* ---- the client ---- */

struct vpc_etcd *
vpc_etcd_open(const char *url)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		errno = EINVAL;
		return NULL;
	}
	static bool curl_ready;
	if (!curl_ready) {
		/* once, single-threaded (a command line) */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			errno = ENOMEM;
			return NULL;
		}
		curl_ready = true;
	}
	struct vpc_etcd *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->url = strdup(url)) == NULL || (e->curl = curl_easy_init()) == NULL) {
		if (e)
			free(e->url);
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	size_t n = strlen(e->url);
	while (n > 0 && e->url[n - 1] == '/')
		e->url[--n] = '\0';
	return e;
}

void
vpc_etcd_close(struct vpc_etcd *e)
{
	if (e == NULL)
		return;
	curl_easy_cleanup(e->curl);
	free(e->url);
	free(e);
}

const char *
vpc_etcd_error(const struct vpc_etcd *e)
{
	return e->err;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	if (b->len + size * n > ETCD_ANSWER_MAX || buf_add(b, data, size * n) < 0)
		return 0;	/* curl: a write error */
	return size * n;
}

/* curl's error as a negative errno */
static int
curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -ECONNRESET;
	}
}

/* The options every request has: POST of body as JSON to URL/v3/path. */
static struct curl_slist *
setup(struct vpc_etcd *e, const char *path, const char *body, char *url, size_t url_size)
{
	CURL *c = e->curl;
	curl_easy_reset(c);
	snprintf(url, url_size, "%s%s", e->url, path);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 5L);
	return hdrs;
}

/* One unary call: body to path; the answer in *ans.  0 or -errno. */
static int
call(struct vpc_etcd *e, const char *path, char *body, struct buf *ans)
{
	if (body == NULL) {
		seterr(e, "out of memory");
		return -ENOMEM;
	}
	char url[512];
	struct curl_slist *hdrs = setup(e, path, body, url, sizeof(url));
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, ETCD_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, ans);
	CURLcode c = curl_easy_perform(e->curl);
	curl_slist_free_all(hdrs);
	free(body);
	if (c != CURLE_OK) {
		seterr(e, "%s: %s", path, curl_easy_strerror(c));
		return curl_errno(c);
	}
	if (ans->p == NULL && buf_add(ans, "", 0) < 0)
		return -ENOMEM;
	return 0;
}

int
vpc_etcd_range(struct vpc_etcd *e, const char *key, bool prefix, struct vpc_etcd_kvs *out)
{
	struct buf ans = { 0 };
	char err[256];
	memset(out, 0, sizeof(*out));
	int r = call(e, "/v3/kv/range", vpc_etcd_range_request(key, prefix), &ans);
	if (r == 0 && (r = vpc_etcd_range_parse(ans.p, ans.len, out, err, sizeof(err))) < 0)
		seterr(e, "range %s: %s", key, err);
	free(ans.p);
	return r;
}

int
vpc_etcd_txn_put(struct vpc_etcd *e, const struct vpc_etcd_put *puts, size_t n, int64_t *revision)
{
	struct buf ans = { 0 };
	char err[256];
	int r = call(e, "/v3/kv/txn", vpc_etcd_txn_request(puts, n), &ans);
	if (r == 0 && (r = vpc_etcd_txn_parse(ans.p, ans.len, revision, err, sizeof(err))) < 0)
		seterr(e, "transaction: %s", err);
	free(ans.p);
	return r;
}

/* A watch stream's state, between curl's callbacks. */
struct watch {
	struct vpc_etcd *e;
	struct buf line;	/* the message being received */
	vpc_etcd_watch_cb cb;
	void *arg;
	int ret;		/* what ends the stream: cb's value, or -errno */
	volatile sig_atomic_t *quit;
};

static size_t
watch_data(char *data, size_t size, size_t n, void *arg)
{
	struct watch *w = arg;
	size_t len = size * n;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			/* a message is one line: JSON escapes newlines in strings */
			if (w->line.len + 1 > ETCD_ANSWER_MAX || buf_add(&w->line, &data[i], 1) < 0) {
				seterr(w->e, "watch: a message over %u bytes", ETCD_ANSWER_MAX);
				w->ret = -EMSGSIZE;
				return 0;
			}
			continue;
		}
		if (w->line.len == 0)
			continue;
		struct vpc_etcd_watch_msg msg;
		char err[256];
		int r = vpc_etcd_watch_parse(w->line.p, w->line.len, &msg, err, sizeof(err));
		w->line.len = 0;
		if (r < 0) {
			seterr(w->e, "watch: %s", err);
			w->ret = r;
			return 0;
		}
		r = w->cb(w->arg, &msg);
		vpc_etcd_watch_msg_free(&msg);
		if (r != 0) {
			w->ret = r;
			return 0;
		}
	}
	return len;
}

static int
watch_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct watch *w = arg;
	if (w->quit != NULL && *w->quit) {
		w->ret = -EINTR;
		return 1;
	}
	return 0;
}

int
vpc_etcd_watch(struct vpc_etcd *e, const char *key, bool prefix, int64_t start_revision,
	       vpc_etcd_watch_cb cb, void *arg, volatile sig_atomic_t *quit)
{
	char *body = vpc_etcd_watch_request(key, prefix, start_revision);
	if (body == NULL) {
		seterr(e, "out of memory");
		return -ENOMEM;
	}
	struct watch w = { .e = e, .cb = cb, .arg = arg, .quit = quit };
	char url[512];
	struct curl_slist *hdrs = setup(e, "/v3/watch", body, url, sizeof(url));
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, watch_data);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(e->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFODATA, &w);
	CURLcode c = curl_easy_perform(e->curl);
	curl_slist_free_all(hdrs);
	free(body);
	free(w.line.p);
	if (w.ret != 0)
		return w.ret;
	if (c == CURLE_OK) {
		seterr(e, "watch: the stream ended");
		return -ECONNRESET;
	}
	seterr(e, "watch: %s", curl_easy_strerror(c));
	return curl_errno(c);
}
