/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowlogs.c -- vpcd's flow-log writer (--flow-logs FILE|-): a thread of
 * its own that drains every lcore's ring (dataplane/flowlog.h) each
 * 100 ms, writes the records as AWS version 2 lines (vpc_flow_format.h)
 * and rotates FILE by size (FILE.1 the newest of the old ones, up to
 * FILE.KEEP).  The workers never wait for it: a ring it has not drained
 * in time loses records, said by SKIPDATA records.
 *
 * Times: the dataplane's clock is the TSC (now_ns()); each record's start
 * and end are moved to Unix seconds by the offset measured when the
 * writer starts.  Interface names: the published configuration's when
 * the record is written (under cfg_lock, as telemetry reads it).
 *
 * Thread-safety: the writer alone drains the rings (single consumer) and
 * owns the file.  fl_stop() joins it, then drains what is left.
 */
#include "vpcd.h"

#include <time.h>

#include "flowlog.h"
#include "vpc_flow_format.h"

#define FL_DRAIN_NS 100000000L	/* 100 ms between drains */

static struct {
	const char *path;	/* NULL: stdout */
	const char *account;
	uint64_t max_size;	/* bytes before a rotation */
	unsigned int keep;	/* rotated files kept */
	FILE *f;
	uint64_t size;
	int64_t offset_s;	/* Unix seconds - dataplane seconds */
	pthread_t th;
	volatile bool stop;
	uint64_t written;
} fw;

static void
fl_rotate(void)
{
	char from[4096], to[4096];

	fclose(fw.f);
	for (unsigned int k = fw.keep; k > 1; k--) {
		snprintf(from, sizeof(from), "%s.%u", fw.path, k - 1);
		snprintf(to, sizeof(to), "%s.%u", fw.path, k);
		rename(from, to);	/* (absent: nothing to move) */
	}
	snprintf(to, sizeof(to), "%s.1", fw.path);
	if (rename(fw.path, to) != 0)
		fprintf(stderr, "vpcd: flow logs: %s -> %s: %s\n", fw.path, to, strerror(errno));
	fw.f = fopen(fw.path, "w");
	fw.size = 0;
	if (fw.f == NULL) {
		fprintf(stderr, "vpcd: flow logs: %s: %s (flow logs stop)\n", fw.path, strerror(errno));
		return;
	}
}

/* Everything the rings hold now, written. */
static void
fl_drain(void)
{
	struct vpc_flow_rec recs[64];
	char line[256];

	pthread_mutex_lock(&vpcd.cfg_lock);
	const struct vpc_image *img = vpcd.cfg->img;
	for (unsigned int l = 0; l <= VPC_FLOWLOG_NON_EAL; l++) {	/* the control thread's too */
		unsigned int k;
		while ((k = vpc_flowlog_drain(vpcd.fl, l, recs, 64)) > 0) {
			for (unsigned int i = 0; i < k && fw.f != NULL; i++) {
				struct vpc_flow_rec r = recs[i];
				r.start = (uint32_t)(r.start + fw.offset_s);
				r.end = (uint32_t)(r.end + fw.offset_s);
				const char *name = r.iface < img->n_ifaces ? img->ifaces[r.iface].name : "-";
				int n = vpc_flow_format(line, sizeof(line), &r, fw.account, name);
				if (n > 0 && fputs(line, fw.f) >= 0) {
					fw.size += (uint64_t)n;
					fw.written++;
				}
				if (fw.path != NULL && fw.size >= fw.max_size)
					fl_rotate();
			}
		}
	}
	pthread_mutex_unlock(&vpcd.cfg_lock);
	if (fw.f != NULL)
		fflush(fw.f);
}

static void *
fl_main(void *arg)
{
	(void)arg;
	while (!fw.stop) {
		struct timespec ts = { 0, FL_DRAIN_NS };
		nanosleep(&ts, NULL);
		fl_drain();
	}
	return NULL;
}

int
fl_start(const char *path, const char *account, uint64_t max_size, unsigned int keep)
{
	struct timespec rt;

	fw.path = strcmp(path, "-") == 0 ? NULL : path;
	fw.account = account;
	fw.max_size = max_size;
	fw.keep = keep;
	fw.f = fw.path == NULL ? stdout : fopen(fw.path, "a");
	if (fw.f == NULL)
		return -errno;
	if (fw.path != NULL) {
		struct stat st;
		fw.size = fstat(fileno(fw.f), &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	fw.offset_s = (int64_t)rt.tv_sec - (int64_t)(now_ns() / 1000000000ull);
	int rc = pthread_create(&fw.th, NULL, fl_main, NULL);
	return -rc;
}

/* At the end (the workers and the control thread stopped; the caller is
 * the main lcore): every live connection's counters, drained as they go
 * (a table's worth does not fit a ring), then what is left. */
void
fl_stop(void)
{
	uint32_t pos = 0, n = 0;
	int64_t i;

	fw.stop = true;
	pthread_join(fw.th, NULL);
	fl_drain();
	while ((i = vpc_ct_next(vpcd.ct, &pos)) >= 0) {
		struct vpc_ct_entry *e = vpc_ct_entry(vpcd.ct, (uint32_t)i);
		for (unsigned int d = 0; d < 2; d++) {
			vpc_flowlog_conn(vpcd.fl, e, d);
			e->flow[d].packets = 0;
		}
		if (++n % 1024 == 0)
			fl_drain();
	}
	vpc_flowlog_flush(vpcd.fl, NULL);
	fl_drain();
	uint64_t lost = vpc_flowlog_lost(vpcd.fl);
	if (lost > 0)
		fprintf(stderr, "vpcd: flow logs: %" PRIu64 " records lost (no ring)\n", lost);
	if (fw.f != NULL && fw.f != stdout)
		fclose(fw.f);
	fw.f = NULL;
}
