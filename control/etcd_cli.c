/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd_cli.c -- vpcctl publish and vpcctl status (etcd_cli.h).
 *
 * publish checks the file exactly as the agents will (each host of its
 * hosts: list gets its own view compiled, as that host's agent compiles
 * it; a file without hosts: is one host's whole), so a file that some
 * host could not take never reaches etcd; then writes it and its
 * description in one transaction.  --wait polls the hosts' status keys: it
 * waits for exactly the hosts the file names (a named host with no status
 * key yet is waited for), or, for a file without hosts:, for every host
 * that has reported a status; and ends early when every one of them has
 * processed the revision.
 */
#include "etcd_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "diag.h"
#include "etcd.h"
#include "etcd_store.h"

/* --wait's poll of the status keys, and its default limit. */
#define PUBLISH_WAIT_POLL_MS 50
#define PUBLISH_WAIT_DEFAULT_S 30.0

static int64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	nanosleep(&ts, NULL);
}

/* The whole of path; NULL with errno. */
static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	uint8_t *p = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *q = realloc(p, cap);
			if (q == NULL) {
				free(p);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			p = q;
		}
		size_t n = fread(p + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(p);
		errno = EIO;
		return NULL;
	}
	*size = len;
	return p;
}

/* Every host's status (sorted by key, as etcd gives them); malformed ones
 * are kept with their error in .error and seen = applied = 0. */
struct statuses {
	struct vpc_host_status *hs;
	size_t n;
	int64_t revision;	/* the store's when read */
};

static void
statuses_free(struct statuses *s)
{
	for (size_t i = 0; i < s->n; i++)
		vpc_host_status_clear(&s->hs[i]);
	free(s->hs);
	memset(s, 0, sizeof(*s));
}

static int
statuses_read(struct vpc_etcd *e, const struct vpc_store_keys *keys, struct statuses *out)
{
	struct vpc_etcd_kvs kvs;
	memset(out, 0, sizeof(*out));
	int r = vpc_etcd_range(e, keys->status, true, &kvs);
	if (r < 0)
		return r;
	out->hs = calloc(kvs.n_kvs ? kvs.n_kvs : 1, sizeof(*out->hs));
	if (out->hs == NULL) {
		vpc_etcd_kvs_free(&kvs);
		return -ENOMEM;
	}
	out->revision = kvs.revision;
	size_t plen = strlen(keys->status);
	for (size_t i = 0; i < kvs.n_kvs; i++) {
		struct vpc_host_status *s = &out->hs[out->n++];
		char err[160];
		if (vpc_host_status_parse((const char *)kvs.kvs[i].value, kvs.kvs[i].size, s, err,
					  sizeof(err)) < 0) {
			char msg[256];
			snprintf(msg, sizeof(msg), "malformed status: %s", err);
			s->host = strdup(kvs.kvs[i].key + plen);
			s->error = strdup(msg);
		}
	}
	vpc_etcd_kvs_free(&kvs);
	return 0;
}

/* An error on one line: its lines joined with "; ". */
static void
print_oneline(FILE *out, const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			fputs("; ", out);
		else
			fputc(s[i], out);
	}
}

/* The hosts --wait waits for: a name and its status (NULL: no status key). */
struct wait_host {
	const char *name;
	const struct vpc_host_status *s;
};

static enum vpc_host_verdict
wait_verdict(const struct wait_host *w, int64_t rev)
{
	return w->s ? vpc_host_verdict(w->s, rev) : VPC_HOST_PENDING;
}

static void
print_host_lines(FILE *out, const struct wait_host *wh, size_t n, int64_t rev,
		 enum vpc_host_verdict which)
{
	for (size_t i = 0; i < n; i++) {
		const struct vpc_host_status *s = wh[i].s;
		enum vpc_host_verdict v = wait_verdict(&wh[i], rev);
		if (v == VPC_HOST_APPLIED || (which == VPC_HOST_FAILED && v != VPC_HOST_FAILED))
			continue;
		if (s == NULL) {
			fprintf(out, "  %s: no status: its agent has never reported\n", wh[i].name);
			continue;
		}
		fprintf(out, "  %s: applied %" PRId64 ", ", wh[i].name, s->applied);
		if (v == VPC_HOST_FAILED || s->error) {
			fprintf(out, "error: ");
			print_oneline(out, s->error ? s->error : "?");
		} else {
			fprintf(out, "has not reported revision %" PRId64 " yet", rev);
		}
		fputc('\n', out);
	}
}

/* --wait: 0 when every host waited for applied rev; 1 at the timeout, or
 * when every one has processed rev and some failed it.  names (n_names):
 * the hosts the file names; none: every host that reports a status. */
static int
publish_wait(struct vpc_etcd *e, const struct vpc_store_keys *keys, int64_t rev, double timeout_s,
	     char *const *names, size_t n_names)
{
	double start = mono_s();
	bool reported = false;	/* a read failure, said once */
	for (;;) {
		struct statuses st;
		int r = statuses_read(e, keys, &st);
		double elapsed = mono_s() - start;
		if (r < 0) {
			if (!reported)
				fprintf(stderr, "vpcctl: %s (still waiting)\n", vpc_etcd_error(e));
			reported = true;
		} else {
			size_t n = n_names ? n_names : st.n;
			struct wait_host *wh = calloc(n ? n : 1, sizeof(*wh));
			if (wh == NULL) {
				statuses_free(&st);
				fprintf(stderr, "vpcctl: out of memory\n");
				return 1;
			}
			for (size_t i = 0; i < n; i++) {
				if (n_names == 0) {
					wh[i].name = st.hs[i].host ? st.hs[i].host : "?";
					wh[i].s = &st.hs[i];
					continue;
				}
				wh[i].name = names[i];
				for (size_t j = 0; j < st.n; j++)
					if (st.hs[j].host && strcmp(st.hs[j].host, names[i]) == 0)
						wh[i].s = &st.hs[j];
			}
			size_t n_applied = 0, n_pending = 0, n_failed = 0;
			for (size_t i = 0; i < n; i++) {
				switch (wait_verdict(&wh[i], rev)) {
				case VPC_HOST_APPLIED: n_applied++; break;
				case VPC_HOST_PENDING: n_pending++; break;
				case VPC_HOST_FAILED: n_failed++; break;
				}
			}
			int ret = -1;
			if (n == 0) {
				printf("revision %" PRId64 ": no host reports a status: nothing to wait for\n",
				       rev);
				ret = 0;
			} else if (n_pending == 0 && n_failed == 0) {
				printf("revision %" PRId64 ": applied by %zu host%s in %.2f s\n", rev,
				       n_applied, n_applied == 1 ? "" : "s", elapsed);
				ret = 0;
			} else if (n_pending == 0) {
				fprintf(stderr, "vpcctl: revision %" PRId64 ": failed on %zu of %zu host%s:\n",
					rev, n_failed, n, n == 1 ? "" : "s");
				print_host_lines(stderr, wh, n, rev, VPC_HOST_FAILED);
				ret = 1;
			} else if (elapsed >= timeout_s) {
				fprintf(stderr,
					"vpcctl: revision %" PRId64 ": not applied by %zu of %zu host%s "
					"after %g s:\n",
					rev, n_pending + n_failed, n, n == 1 ? "" : "s", timeout_s);
				print_host_lines(stderr, wh, n, rev, VPC_HOST_PENDING);
				ret = 1;
			}
			free(wh);
			statuses_free(&st);
			if (ret >= 0)
				return ret;
		}
		if (r < 0 && elapsed >= timeout_s) {
			fprintf(stderr, "vpcctl: revision %" PRId64 ": no answer from etcd after %g s: %s\n",
				rev, timeout_s, vpc_etcd_error(e));
			return 1;
		}
		sleep_ms(PUBLISH_WAIT_POLL_MS);
	}
}

/* Every host's view of FILE compiled, as the agents will: the names of its
 * hosts: list in *names (none without hosts:, or for an image file); 0, or
 * 1 with every error printed (nothing is to be written). */
static int
publish_check(const char *file, char ***names, size_t *n_names)
{
	*names = NULL;
	*n_names = 0;
	FILE *f = fopen(file, "rb");
	uint32_t magic = 0;
	bool image = f != NULL && fread(&magic, sizeof(magic), 1, f) == 1 &&
		     magic == VPC_IMAGE_MAGIC;
	if (f != NULL)
		fclose(f);
	if (image) {
		/* an image written by `vpcctl compile`: read and checked */
		struct vpc_image *img = vpc_image_load_host(file, file, NULL, stderr);
		vpc_image_free(img);
		return img == NULL;
	}
	/* Loaded and validated once; each view compiled from that model, as
	 * vpc_image_load_host(file, file, host) does in each agent (without
	 * parsing the file once a host). */
	struct vpc_diag d;
	vpc_diag_init(&d, file);
	struct topo *t = topo_load_valid(file, &d);
	if (t == NULL) {
		vpc_diag_print(&d, stderr);
		vpc_diag_fini(&d);
		return 1;
	}
	vpc_diag_fini(&d);
	int ret = 0;
	uint32_t n = t->has_hosts ? t->n_hosts : 1, n_bad = 0;
	for (uint32_t h = 0; h < n; h++) {
		struct vpc_image *img = topo_compile_host(t, t->has_hosts ? h : VPC_INDEX_NONE);
		if (img != NULL) {
			vpc_image_free(img);
			continue;
		}
		n_bad++;
		const char *why = errno == E2BIG ?
			"the tables exceed the image limits (too many rules after expanding security-group references?)" :
			strerror(errno);
		if (t->has_hosts)
			fprintf(stderr, "%s: host '%s': cannot compile its view: %s\n", file,
				t->hosts[h].name.s, why);
		else
			fprintf(stderr, "%s: cannot compile: %s\n", file, why);
	}
	if (n_bad > 0) {
		if (t->has_hosts)
			fprintf(stderr, "vpcctl: %s: not published: %u of %u hosts cannot take it\n",
				file, n_bad, n);
		ret = 1;
	} else if (t->has_hosts) {
		*names = calloc(n, sizeof(**names));
		for (uint32_t h = 0; *names != NULL && h < n; h++)
			if (((*names)[h] = strdup(t->hosts[h].name.s)) != NULL)
				(*n_names)++;
		if (*n_names != n) {
			fprintf(stderr, "vpcctl: out of memory\n");
			ret = 1;
		}
	}
	topo_free(t);
	return ret;
}

static void
names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
usage_publish(void)
{
	fprintf(stderr, "usage: vpcctl publish FILE --etcd URL [--prefix P] [--wait [--timeout S]]\n");
}

int
vpcctl_publish(int argc, char **argv)
{
	const char *file = NULL, *url = NULL, *prefix = VPC_STORE_DEFAULT_PREFIX;
	bool wait = false;
	double timeout_s = PUBLISH_WAIT_DEFAULT_S;

	for (int i = 0; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--etcd") == 0 && i + 1 < argc) {
			url = argv[++i];
		} else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
			prefix = argv[++i];
		} else if (strcmp(argv[i], "--wait") == 0) {
			wait = true;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout_s = strtod(argv[++i], &end);
			if (*end || end == argv[i] || !(timeout_s > 0)) {
				fprintf(stderr, "vpcctl: --timeout %s: not a number of seconds > 0\n",
					argv[i]);
				return 2;
			}
		} else if (argv[i][0] != '-' && file == NULL) {
			file = argv[i];
		} else {
			usage_publish();
			return 2;
		}
	}
	struct vpc_store_keys keys;
	if (file == NULL || url == NULL || vpc_store_keys_init(&keys, prefix) < 0) {
		usage_publish();
		return 2;
	}
	/* Checked as every host will compile it, before anything is written. */
	char **names;
	size_t n_names;
	if (publish_check(file, &names, &n_names) != 0) {
		names_free(names, n_names);
		return 1;
	}

	size_t size, stored_size;
	uint8_t *data = read_file(file, &size), *stored;
	if (data == NULL) {
		fprintf(stderr, "%s: cannot read: %s\n", file, strerror(errno));
		names_free(names, n_names);
		return 1;
	}
	if (vpc_store_pack(data, size, &stored, &stored_size) < 0) {
		fprintf(stderr, "%s: cannot compress: out of memory\n", file);
		free(data);
		names_free(names, n_names);
		return 1;
	}
	free(data);
	struct json_object *meta = json_object_new_object();
	char t[40];
	vpc_store_time(now_us(), t, sizeof(t));
	json_object_object_add(meta, "time", json_object_new_string(t));
	json_object_object_add(meta, "file", json_object_new_string(file));
	json_object_object_add(meta, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(meta, "stored", json_object_new_int64((int64_t)stored_size));
	const char *meta_text = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct vpc_etcd_put puts[] = {
		{ keys.topology, stored, stored_size },
		{ keys.published, meta_text, strlen(meta_text) },
	};
	struct vpc_etcd *e = vpc_etcd_open(url);
	if (e == NULL) {
		int err = errno;
		fprintf(stderr, "vpcctl: --etcd %s: %s\n", url,
			err == EINVAL ? "not an http:// or https:// URL" : strerror(err));
		json_object_put(meta);
		free(stored);
		names_free(names, n_names);
		return err == EINVAL ? 2 : 1;
	}
	int64_t rev = 0;
	int r = vpc_etcd_txn_put(e, puts, 2, &rev);
	json_object_put(meta);
	free(stored);
	if (r < 0) {
		fprintf(stderr, "vpcctl: %s: not published: %s\n", file, vpc_etcd_error(e));
		vpc_etcd_close(e);
		names_free(names, n_names);
		return 1;
	}
	printf("%s: published as revision %" PRId64 " (%zu bytes, %zu stored)\n", file, rev, size,
	       stored_size);
	fflush(stdout);
	int ret = wait ? publish_wait(e, &keys, rev, timeout_s, names, n_names) : 0;
	vpc_etcd_close(e);
	names_free(names, n_names);
	return ret;
}

/* ---- status ---- */

/* The topology's revision and its publish's description (NULL if none). */
static int
read_published(struct vpc_etcd *e, const struct vpc_store_keys *keys, int64_t *rev,
	       struct json_object **meta)
{
	struct vpc_etcd_kvs kvs;
	*rev = 0;
	*meta = NULL;
	int r = vpc_etcd_range(e, keys->topology, false, &kvs);
	if (r < 0)
		return r;
	if (kvs.n_kvs > 0)
		*rev = kvs.kvs[0].mod_revision;
	vpc_etcd_kvs_free(&kvs);
	if ((r = vpc_etcd_range(e, keys->published, false, &kvs)) < 0)
		return r;
	if (kvs.n_kvs > 0)
		*meta = json_tokener_parse((const char *)kvs.kvs[0].value);
	vpc_etcd_kvs_free(&kvs);
	return 0;
}

static const char *
meta_str(struct json_object *meta, const char *name)
{
	struct json_object *f;
	return meta && json_object_object_get_ex(meta, name, &f) ? json_object_get_string(f) : "?";
}

int
vpcctl_status(int argc, char **argv)
{
	const char *url = NULL, *prefix = VPC_STORE_DEFAULT_PREFIX;
	bool json = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--etcd") == 0 && i + 1 < argc) {
			url = argv[++i];
		} else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
			prefix = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			url = NULL;
			break;
		}
	}
	struct vpc_store_keys keys;
	if (url == NULL || vpc_store_keys_init(&keys, prefix) < 0) {
		fprintf(stderr, "usage: vpcctl status --etcd URL [--prefix P] [--json]\n");
		return 2;
	}
	struct vpc_etcd *e = vpc_etcd_open(url);
	if (e == NULL) {
		fprintf(stderr, "vpcctl: --etcd %s: not an http:// or https:// URL\n", url);
		return 2;
	}
	int64_t rev;
	struct json_object *meta;
	struct statuses st;
	int r = read_published(e, &keys, &rev, &meta);
	if (r == 0 && (r = statuses_read(e, &keys, &st)) < 0)
		json_object_put(meta);
	if (r < 0) {
		fprintf(stderr, "vpcctl: %s\n", vpc_etcd_error(e));
		vpc_etcd_close(e);
		return 1;
	}
	vpc_etcd_close(e);

	if (json) {
		struct json_object *o = json_object_new_object(), *hosts = json_object_new_array();
		json_object_object_add(o, "revision", json_object_new_int64(rev));
		json_object_object_add(o, "published", meta ? json_object_get(meta) : NULL);
		json_object_object_add(o, "hosts", hosts);
		for (size_t i = 0; i < st.n; i++) {
			const struct vpc_host_status *s = &st.hs[i];
			struct json_object *h = json_object_new_object();
			char t[40];
			vpc_store_time(s->time_us, t, sizeof(t));
			json_object_object_add(h, "host", json_object_new_string(s->host ? s->host : "?"));
			json_object_object_add(h, "applied", json_object_new_int64(s->applied));
			json_object_object_add(h, "seen", json_object_new_int64(s->seen));
			json_object_object_add(h, "lag", json_object_new_int64(
							 rev > s->applied ? rev - s->applied : 0));
			json_object_object_add(h, "time", s->time_us ? json_object_new_string(t) : NULL);
			json_object_object_add(h, "compile_us", json_object_new_int64(s->compile_us));
			json_object_object_add(h, "error",
					       s->error ? json_object_new_string(s->error) : NULL);
			json_object_array_add(hosts, h);
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		if (rev == 0)
			printf("topology: none published\n");
		else
			printf("topology: revision %" PRId64 ", published %s from %s (%s bytes, %s stored)\n",
			       rev, meta_str(meta, "time"), meta_str(meta, "file"),
			       meta_str(meta, "size"), meta_str(meta, "stored"));
		if (st.n == 0) {
			printf("no host has reported a status\n");
		} else {
			int w = 4;
			for (size_t i = 0; i < st.n; i++)
				if (st.hs[i].host && (int)strlen(st.hs[i].host) > w)
					w = (int)strlen(st.hs[i].host);
			printf("%-*s  %8s  %8s  %-24s  %s\n", w, "HOST", "APPLIED", "LAG", "TIME", "ERROR");
			for (size_t i = 0; i < st.n; i++) {
				const struct vpc_host_status *s = &st.hs[i];
				char t[40] = "-";
				if (s->time_us)
					vpc_store_time(s->time_us, t, sizeof(t));
				printf("%-*s  %8" PRId64 "  %8" PRId64 "  %-24s  ", w,
				       s->host ? s->host : "?", s->applied,
				       rev > s->applied ? rev - s->applied : 0, t);
				print_oneline(stdout, s->error ? s->error : "-");
				putchar('\n');
			}
		}
	}
	json_object_put(meta);
	statuses_free(&st);
	return 0;
}
