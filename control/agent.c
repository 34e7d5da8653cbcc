/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * agent.c -- vpcctl agent: one host's follower of the topology in etcd
 * (etcd_cli.h; keys: etcd_store.h; docs/cli.md).
 *
 * The loop:
 *   1. Read the topology key (a range: the whole state at the store's
 *      revision R) when it has nothing to resume from; process the value
 *      if its revision is newer than the last one processed.
 *   2. Watch the key from R+1 (or from the last event's revision + 1).
 *      Each message's newest PUT newer than the last processed one is
 *      processed; older ones of the same message are superseded.
 *   3. The stream ends (etcd gone, restarted): retry with backoff
 *      (100 ms doubling to 5 s), resuming from the revision it has; a
 *      watch refused because etcd compacted past it goes back to 1.
 *
 * So a revision is processed at most once (only revisions newer than the
 * last processed are) and none is lost (the watch resumes where the last
 * event was; a compaction makes it read the current state, which
 * supersedes what was compacted).  The dataplane is only ever touched by
 * a successful apply: with etcd gone it goes on with its tables.
 *
 * Processing a revision: compile this host's view (vpc_image_load_host)
 * from the value (in a memfd: the compiler reads a path), apply it with
 * the engine's atomic apply (vpcctl_engine.h), write the status key.  A
 * failure at either step is the status's error and changes nothing
 * locally; it is not retried (the next publish is).  A status that could
 * not be written is written when etcd answers again.
 *
 * An agent starts knowing nothing: it applies the current revision once
 * (the engine's state is not known to match any).  Single-threaded; the
 * only global is the quit flag (SIGTERM, SIGINT: exit 0).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "etcd.h"
#include "etcd_cli.h"
#include "etcd_store.h"
#include "vpcctl_engine.h"

#define AGENT_BACKOFF_MIN_MS 100
#define AGENT_BACKOFF_MAX_MS 5000
/* What a status's error keeps of the compiler's or engine's messages. */
#define AGENT_ERROR_MAX 2048
/* A watch callback's verdicts (vpc_etcd_watch returns them). */
#define WATCH_COMPACTED 1
#define WATCH_CANCELED 2

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

struct agent {
	const char *host;
	struct vpc_store_keys keys;
	struct vpc_etcd *e;		/* requests (range, status) */
	struct vpc_etcd *we;		/* the watch stream */
	const struct vpcctl_engine *eng;	/* NULL: --dry-run */
	const char *target;		/* the engine's socket or instance */
	int64_t watched;		/* the topology key's changes are known up to this store
					 * revision; 0: read it whole */
	struct vpc_host_status st;	/* seen, applied: the bookkeeping */
	bool status_pending;		/* st not yet in etcd */
	bool status_written;		/* once: the host is known */
	bool outage;			/* etcd unreachable, said once */
	long backoff_ms;		/* the next retry's wait */
};

static int64_t
now_us(int clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	nanosleep(&ts, NULL);	/* a signal cuts it short: quit is checked after */
}

/* A message kept for the status: trailing newlines dropped, cut at
 * AGENT_ERROR_MAX. */
static char *
error_text(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n == 0)
		return strdup("failed (no message)");
	if (n > AGENT_ERROR_MAX)
		n = AGENT_ERROR_MAX;
	return strndup(s, n);
}

static char *
read_fd(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *s = malloc(size > 0 ? (size_t)size + 1 : 1);
	if (s == NULL)
		return NULL;
	ssize_t n = size > 0 ? pread(fd, s, (size_t)size, 0) : 0;
	s[n > 0 ? n : 0] = '\0';
	return s;
}

/*
 * Apply img, with what the engine says on stderr kept for the status
 * (and still logged).  Returns 0, or -1 with *err.
 */
static int
agent_apply(struct agent *a, const struct vpc_image *img, char **err)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	int cap = memfd_create("vpcctl-agent-apply", MFD_CLOEXEC);
	if (saved < 0 || cap < 0 || dup2(cap, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		if (cap >= 0)
			close(cap);
		*err = strdup("cannot capture the engine's messages");
		return -1;
	}
	int r = a->eng->apply(a->target, img, 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	char *said = read_fd(cap);
	close(cap);
	if (said && said[0])
		fputs(said, stderr);
	if (r != 0)
		*err = error_text(said && said[0] ? said : "the engine refused the tables");
	free(said);
	return r == 0 ? 0 : -1;
}

/* Write the status; on failure it stays pending. */
static int
status_write(struct agent *a)
{
	char *json = vpc_host_status_json(&a->st);
	if (json == NULL)
		return -ENOMEM;
	char key[sizeof(a->keys.status) + 128];
	snprintf(key, sizeof(key), "%s%s", a->keys.status, a->host);
	struct vpc_etcd_put put = { key, json, strlen(json) };
	int64_t rev;
	int r = vpc_etcd_txn_put(a->e, &put, 1, &rev);
	free(json);
	a->status_pending = r < 0;
	if (r == 0)
		a->status_written = true;
	return r;
}

/* Process revision rev of the topology (value as stored): compile this
 * host's view, apply it, report. */
static void
agent_process(struct agent *a, int64_t rev, const uint8_t *value, size_t size)
{
	char name[sizeof(a->keys.topology) + 32];
	snprintf(name, sizeof(name), "%s@%" PRId64, a->keys.topology, rev);
	char *err = NULL;
	struct vpc_image *img = NULL;
	int64_t compile_us = 0;
	uint8_t *yaml = NULL;
	size_t yaml_size;
	int fd = -1;

	if (vpc_store_unpack(value, size, &yaml, &yaml_size) < 0) {
		if (asprintf(&err, "%s: not a topology (a damaged zlib stream)", name) < 0)
			err = NULL;
		goto report;
	}
	fd = memfd_create("vpcctl-agent-topology", MFD_CLOEXEC);
	if (fd < 0 || write(fd, yaml, yaml_size) != (ssize_t)yaml_size) {
		if (asprintf(&err, "%s: cannot hold the topology: %s", name, strerror(errno)) < 0)
			err = NULL;
		goto report;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *errs_text = NULL;
	size_t errs_size = 0;
	FILE *errs = open_memstream(&errs_text, &errs_size);
	int64_t t0 = now_us(CLOCK_MONOTONIC);
	img = vpc_image_load_host(path, name, a->host, errs ? errs : stderr);
	compile_us = now_us(CLOCK_MONOTONIC) - t0;
	if (errs)
		fclose(errs);
	if (img == NULL)
		err = error_text(errs_text ? errs_text : "does not compile");
	free(errs_text);
	if (img != NULL && a->eng != NULL)
		agent_apply(a, img, &err);

report:
	if (fd >= 0)
		close(fd);
	free(yaml);
	vpc_image_free(img);
	a->st.seen = rev;
	a->st.time_us = now_us(CLOCK_REALTIME);
	a->st.compile_us = compile_us;
	free(a->st.error);
	a->st.error = NULL;
	if (err == NULL && img == NULL)
		err = strdup("out of memory");
	if (err == NULL) {
		a->st.applied = rev;
		printf("vpcctl agent %s: revision %" PRId64 " %s in %.1f ms%s\n", a->host, rev,
		       a->eng ? "applied, compiled" : "compiled", (double)compile_us / 1000,
		       a->eng ? "" : " (dry run)");
	} else {
		a->st.error = err;
		printf("vpcctl agent %s: revision %" PRId64 " not applied, the running tables "
		       "are kept: %s\n", a->host, rev, err);
	}
	fflush(stdout);
	if (status_write(a) < 0)
		fprintf(stderr, "vpcctl agent %s: status of revision %" PRId64
				" not written yet: %s\n", a->host, rev, vpc_etcd_error(a->e));
}

static int
on_watch(void *arg, const struct vpc_etcd_watch_msg *msg)
{
	struct agent *a = arg;
	if (msg->canceled) {
		if (msg->compact_revision > 0) {
			printf("vpcctl agent %s: etcd compacted past revision %" PRId64
			       " (oldest kept: %" PRId64 "): reading the whole state\n",
			       a->host, a->watched + 1, msg->compact_revision);
			return WATCH_COMPACTED;
		}
		fprintf(stderr, "vpcctl agent %s: etcd canceled the watch: %s\n", a->host,
			msg->cancel_reason ? msg->cancel_reason : "no reason given");
		return WATCH_CANCELED;
	}
	if (msg->created) {
		/* connected and following again: the outage is over */
		if (a->outage)
			printf("vpcctl agent %s: etcd answers again: resuming after revision %" PRId64
			       "\n", a->host, a->watched);
		a->outage = false;
		a->backoff_ms = AGENT_BACKOFF_MIN_MS;
	}
	const struct vpc_etcd_kv *kv = vpc_store_next_event(msg, a->keys.topology, a->st.seen);
	for (size_t i = 0; i < msg->n_events; i++) {
		if (msg->events[i].deleted && msg->events[i].mod_revision > a->watched)
			printf("vpcctl agent %s: the topology was deleted at revision %" PRId64
			       ": the running tables are kept\n", a->host, msg->events[i].mod_revision);
		if (msg->events[i].mod_revision > a->watched)
			a->watched = msg->events[i].mod_revision;
	}
	if (kv != NULL)
		agent_process(a, kv->mod_revision, kv->value, kv->size);
	return quit ? -EINTR : 0;
}

/* Read the topology whole; process it if newer.  0 or -errno. */
static int
agent_read_all(struct agent *a)
{
	struct vpc_etcd_kvs kvs;
	int r = vpc_etcd_range(a->e, a->keys.topology, false, &kvs);
	if (r < 0)
		return r;
	if (kvs.n_kvs > 0 && kvs.kvs[0].mod_revision > a->st.seen)
		agent_process(a, kvs.kvs[0].mod_revision, kvs.kvs[0].value, kvs.kvs[0].size);
	a->watched = kvs.revision;
	vpc_etcd_kvs_free(&kvs);
	return 0;
}

static void
usage_agent(void)
{
	fprintf(stderr,
		"usage: vpcctl agent --etcd URL --host NAME [--prefix P]\n"
		"                    (--engine dpdk [--socket PATH] | --engine xdp [--instance NAME]\n"
		"                     | --dry-run)\n");
}

int
vpcctl_agent(int argc, char **argv)
{
	const char *url = NULL, *prefix = VPC_STORE_DEFAULT_PREFIX, *engine = NULL;
	const char *sock = VPC_CTL_DEFAULT_SOCKET, *instance = "default";
	struct agent a = { 0 };
	bool dry_run = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--etcd") == 0 && i + 1 < argc)
			url = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			a.host = argv[++i];
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (strcmp(argv[i], "--engine") == 0 && i + 1 < argc)
			engine = argv[++i];
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = true;
		else {
			usage_agent();
			return 2;
		}
	}
	if (url == NULL || a.host == NULL || vpc_store_keys_init(&a.keys, prefix) < 0 ||
	    (engine == NULL && !dry_run) ||
	    (engine && strcmp(engine, "dpdk") != 0 && strcmp(engine, "xdp") != 0)) {
		usage_agent();
		return 2;
	}
	if (a.host[0] == '\0' || strlen(a.host) > 64 || strchr(a.host, '/')) {
		fprintf(stderr, "vpcctl agent: --host '%s': a name of 1 to 64 characters, no '/'\n",
			a.host);
		return 2;
	}
	if (!dry_run) {
		bool xdp = strcmp(engine, "xdp") == 0;
		a.eng = vpcctl_engine(xdp ? "xdp" : "vpcd");
		a.target = xdp ? instance : sock;
		if (a.eng == NULL) {
			fprintf(stderr, "vpcctl agent: --engine xdp: this build has no XDP engine\n");
			return 1;
		}
	}
	a.e = vpc_etcd_open(url);
	a.we = vpc_etcd_open(url);
	if (a.e == NULL || a.we == NULL) {
		fprintf(stderr, "vpcctl agent: --etcd %s: not an http:// or https:// URL\n", url);
		vpc_etcd_close(a.e);
		vpc_etcd_close(a.we);
		return 2;
	}
	a.st.host = (char *)a.host;

	/* SIGTERM, SIGINT: end the loop (no SA_RESTART: a sleep is cut short);
	 * SIGPIPE: an engine that closes its socket is an error, not a death. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("vpcctl agent %s: following %s at %s (%s)\n", a.host, a.keys.topology, url,
	       dry_run ? "dry run: compile only" : a.target);
	a.backoff_ms = AGENT_BACKOFF_MIN_MS;
	unsigned int seed = (unsigned int)now_us(CLOCK_REALTIME) ^ (unsigned int)getpid();
	while (!quit) {
		const char *why;
		if (a.watched == 0 && agent_read_all(&a) < 0) {
			why = vpc_etcd_error(a.e);
		} else if ((a.status_pending || !a.status_written) && status_write(&a) < 0) {
			why = vpc_etcd_error(a.e);	/* a pending status, or the host's first */
		} else {
			int r = vpc_etcd_watch(a.we, a.keys.topology, false, a.watched + 1, on_watch,
					       &a, &quit);
			if (r == WATCH_COMPACTED) {
				a.watched = 0;
				continue;
			}
			why = r == WATCH_CANCELED ? "etcd canceled the watch" : vpc_etcd_error(a.we);
		}
		if (quit)
			break;
		if (!a.outage)
			fprintf(stderr, "vpcctl agent %s: lost etcd (%s): the dataplane keeps its "
					"tables; retrying\n", a.host, why);
		a.outage = true;
		/* jitter: a fleet that lost etcd together does not return together */
		long b = a.backoff_ms;
		sleep_ms(b / 2 + rand_r(&seed) % (b / 2 + 1));
		a.backoff_ms = b * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : b * 2;
	}
	printf("vpcctl agent %s: stopped (applied revision %" PRId64 ")\n", a.host, a.st.applied);
	free(a.st.error);
	vpc_etcd_close(a.e);
	vpc_etcd_close(a.we);
	return 0;
}
