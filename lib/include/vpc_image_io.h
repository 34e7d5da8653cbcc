/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_image_io.h -- building, checking, reading and writing table images.
 *
 * A struct vpc_image owns one contiguous buffer laid out as vpc_image.h
 * describes, plus typed views of its sections.  The compiler builds one
 * with vpc_image_alloc() and vpc_image_seal(); everyone else gets one from
 * vpc_image_from_bytes() or vpc_image_read_file(), which refuse any buffer
 * that vpc_image_check() does not accept.
 *
 * Thread-safety: a sealed image is immutable and may be shared freely.
 */
#ifndef VPC_IMAGE_IO_H
#define VPC_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "vpc_image.h"

struct vpc_image {
	void *buf;		/* owned; header then sections */
	size_t size;
	struct vpc_image_header *hdr;
#define VPC_X(e, f, t) t *f; uint32_t n_##f;
	VPC_IMAGE_SECTIONS(VPC_X)
#undef VPC_X
};

/*
 * Allocate a zeroed image with counts[s] records in section s.  Returns NULL
 * and sets errno (ENOMEM, or E2BIG past VPC_IMAGE_MAX_SIZE).
 */
struct vpc_image *vpc_image_alloc(const uint32_t counts[VPC_SEC_COUNT]);

/* Compute the checksum once every record is written. */
void vpc_image_seal(struct vpc_image *img);

/*
 * Check that buf[0..size) is a well-formed image: header, sections,
 * checksum, and every index and enum in every record.  Returns 0, or
 * -EINVAL with a message naming the first fault in err.
 */
int vpc_image_check(const void *buf, size_t size, char *err, size_t err_size);

/*
 * Take a copy of buf after vpc_image_check() accepts it.  NULL with errno
 * EINVAL (message in err) or ENOMEM.
 */
struct vpc_image *vpc_image_from_bytes(const void *buf, size_t size,
				       char *err, size_t err_size);

/* Read and check an image file.  NULL with errno and a message in err. */
struct vpc_image *vpc_image_read_file(const char *path, char *err,
				      size_t err_size);

/* Write atomically (temporary file, then rename).  0 or negative errno. */
int vpc_image_write_file(const struct vpc_image *img, const char *path);

void vpc_image_free(struct vpc_image *img);

/* FNV-1a 64 over size bytes. */
uint64_t vpc_image_checksum(const void *p, size_t size);

/* "local", "internet_gateway", "blackhole", "interface"; "?" if unknown. */
const char *vpc_route_target_name(unsigned int target);

/* The peering between VPCs a and b of a checked image (the first, should
 * an image hold two), or VPC_INDEX_NONE.  A scan of the peerings. */
uint32_t vpc_image_peering_of(const struct vpc_image *img, uint32_t a, uint32_t b);

/* Names of enum vpc_lb_algorithm values, as the topology file writes
 * them ("hash", "round_robin", ...); "?" if unknown. */
const char *vpc_lb_algorithm_name(unsigned int alg);

/* Names of enum vpc_timeout_id values ("tcp_established", ...). */
const char *vpc_timeout_name(unsigned int id);

#endif /* VPC_IMAGE_IO_H */
