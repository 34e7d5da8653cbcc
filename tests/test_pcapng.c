/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pcapng -- the pcapng blocks vpcctl capture writes (lib/pcapng.c):
 * buffers too small first, then the exact bytes of a section header, an
 * interface description and enhanced packet blocks (with and without
 * epb_flags, a frame cut by the snap length, lengths not a multiple of
 * 4), as the pcapng draft lays them out (little-endian host).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vpc_pcapng.h"

static const uint8_t frame[5] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };

static void
test_too_small(void **state)
{
	uint8_t buf[256];
	(void)state;
	struct vpc_pcapng_packet p = { .data = frame, .cap_len = 5, .orig_len = 5, .dir = 1 };
	struct vpc_pcapng_packet bad = { .data = frame, .cap_len = 5, .orig_len = 4 };

	assert_int_equal(vpc_pcapng_shb(buf, 27), 0);
	assert_int_equal(vpc_pcapng_idb(buf, 39, 1, 2048, "vm1", 9), 0);
	assert_int_equal(vpc_pcapng_epb(buf, 51, &p), 0);
	assert_int_equal(vpc_pcapng_epb(buf, sizeof(buf), &bad), 0);	/* cap > orig */
}

static void
test_shb(void **state)
{
	static const uint8_t want[28] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0,		/* type, length */
		0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,		/* byte order, 1.0 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* section length -1 */
		28, 0, 0, 0,
	};
	uint8_t buf[64];
	(void)state;

	assert_int_equal(vpc_pcapng_shb(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_idb(void **state)
{
	static const uint8_t want[40] = {
		1, 0, 0, 0, 40, 0, 0, 0,
		1, 0, 0, 0, 0x00, 0x08, 0, 0,			/* Ethernet; snaplen 2048 */
		2, 0, 3, 0, 'v', 'm', '1', 0,			/* if_name "vm1", padded */
		9, 0, 1, 0, 9, 0, 0, 0,				/* if_tsresol 9: ns */
		0, 0, 0, 0,					/* opt_endofopt */
		40, 0, 0, 0,
	};
	/* No name: no if_name option. */
	static const uint8_t want_noname[32] = {
		1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0x00, 0x01, 0, 0,
		9, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0,
		32, 0, 0, 0,
	};
	uint8_t buf[128];
	(void)state;

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(vpc_pcapng_idb(buf, sizeof(buf), 1, 2048, "vm1", 9), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(vpc_pcapng_idb(buf, sizeof(buf), 1, 256, NULL, 6), sizeof(want_noname));
	assert_memory_equal(buf, want_noname, sizeof(want_noname));
}

static void
test_epb(void **state)
{
	static const uint8_t want[52] = {
		6, 0, 0, 0, 52, 0, 0, 0,
		0, 0, 0, 0,					/* interface 0 */
		0x01, 0, 0, 0, 0x02, 0x03, 0x04, 0x05,		/* ts high, low */
		5, 0, 0, 0, 60, 0, 0, 0,			/* captured 5 of 60 */
		0xde, 0xad, 0xbe, 0xef, 0x01, 0, 0, 0,		/* data, padded */
		2, 0, 4, 0, 2, 0, 0, 0,				/* epb_flags: outbound */
		0, 0, 0, 0,
		52, 0, 0, 0,
	};
	/* No direction: no options at all. */
	static const uint8_t want_nodir[40] = {
		6, 0, 0, 0, 40, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0,
		5, 0, 0, 0, 5, 0, 0, 0,
		0xde, 0xad, 0xbe, 0xef, 0x01, 0, 0, 0,
		40, 0, 0, 0,
	};
	uint8_t buf[128];
	(void)state;
	struct vpc_pcapng_packet p = {
		.if_id = 0, .ts = 0x0000000105040302ull, .data = frame, .cap_len = 5,
		.orig_len = 60, .dir = VPC_PCAPNG_DIR_OUT,
	};

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(vpc_pcapng_epb(buf, sizeof(buf), &p), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_true(sizeof(want) <= VPC_PCAPNG_EPB_SIZE(5));
	p = (struct vpc_pcapng_packet){ .if_id = 3, .ts = 7, .data = frame, .cap_len = 5,
					.orig_len = 5 };
	assert_int_equal(vpc_pcapng_epb(buf, sizeof(buf), &p), sizeof(want_nodir));
	assert_memory_equal(buf, want_nodir, sizeof(want_nodir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_shb),
		cmocka_unit_test(test_idb),
		cmocka_unit_test(test_epb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
