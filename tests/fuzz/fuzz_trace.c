/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_trace -- the trace's parser and printer (lib/trace.c) on input
 * from anywhere: a packet's description (vpcctl trace's argument, vpcd's
 * VPC_CTL_TRACE payload) built into a frame for a port of a loaded
 * topology, and a list of events -- any kinds, any indexes, as a lying
 * engine could hand them -- printed as text and JSON with any frame.
 *
 * Input: byte 0 picks the port; bytes 1..: up to the first NUL, the
 * description; after it, events (16 bytes each) and then a frame.
 * Invariants: a built frame is within its buffer and starts with the
 * port's Ethernet header; nothing reads out of bounds (ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "vpc_image.h"
#include "vpc_trace_report.h"
#include "fuzz.h"

static struct vpc_image *img;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096];
	const char *root = getenv("VPC_SOURCE_ROOT");

	(void)argc;
	(void)argv;
	if (root == NULL)
		root = VPC_SOURCE_ROOT;
	snprintf(path, sizeof(path), "%s/tests/conformance/topo/lb.yaml", root);
	img = vpc_image_load_host(path, NULL, NULL, stderr);
	devnull = fopen("/dev/null", "w");
	if (img == NULL || devnull == NULL) {
		fprintf(stderr, "fuzz_trace: cannot load %s (set VPC_SOURCE_ROOT)\n", path);
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[2048];
	static struct vpc_trace_buf tb;
	char spec[300], err[256];

	if (size < 1)
		return 0;
	uint32_t port = data[0] % (img->n_ports + 1);	/* one past: no such port */
	size_t k = 1;
	size_t n = 0;
	while (k < size && data[k] != 0 && n < sizeof(spec) - 1)
		spec[n++] = (char)data[k++];
	spec[n] = 0;
	if (k < size)
		k++;
	int len = vpc_trace_frame(img, port, spec, frame, sizeof(frame), err, sizeof(err));
	if (len >= 0) {
		CHECK(port < img->n_ports && (size_t)len <= sizeof(frame) && len >= 42);
		CHECK(frame[12] == 0x08 && frame[13] == 0x00);
	} else {
		CHECK(memchr(err, 0, sizeof(err)) != NULL && err[0] != 0);
	}
	/* events, then a frame */
	memset(&tb, 0, sizeof(tb));
	while (k + sizeof(struct vpc_trace_ev) <= size && tb.n < VPC_TRACE_MAX + 2) {
		if (tb.n < VPC_TRACE_MAX)
			memcpy(&tb.ev[tb.n], data + k, sizeof(struct vpc_trace_ev));
		tb.n++;
		k += sizeof(struct vpc_trace_ev);
		if (k < size && data[k] == 0xff) {	/* the frame follows */
			k++;
			break;
		}
	}
	const uint8_t *f = len >= 0 ? frame : data + k;
	uint32_t flen = len >= 0 ? (uint32_t)len : (uint32_t)(size - k);
	struct vpc_trace_result r = {
		.in_port = port, .in_frame = f, .in_len = flen, .tb = &tb,
		.action = data[0] % 4, .path = (uint8_t)(size % 40), .reason = (uint8_t)(size % 70),
		.out_port = data[0] & 0x80 ? VPC_INDEX_NONE : data[0] % (img->n_ports + 2),
		.out_frame = data + k, .out_len = (uint32_t)(size - k),
	};
	vpc_trace_print(devnull, img, &r, false);
	vpc_trace_print(devnull, img, &r, true);
	return 0;
}
