/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_names.h -- the names of vpc_reasons.h's enums ("forward",
 * "igw-egress", "spoofed-src-ip", "established", ...) and the host's
 * default connection-table size: shared by both engines' user space, the
 * tools and vpcctl (lib/names.c, in the image library: no DPDK).
 */
#ifndef VPC_NAMES_H
#define VPC_NAMES_H

#include <stdint.h>

#include "vpc_reasons.h"

const char *vpc_action_name(unsigned int action);
const char *vpc_path_name(unsigned int path);
const char *vpc_drop_name(unsigned int reason);
const char *vpc_drop_description(unsigned int reason);
const char *vpc_ct_state_name(unsigned int state);

/* The connections a host of n_ifaces interfaces gets unless told
 * otherwise: 16,384 per interface, at least 65,536, at most 1,048,576. */
uint32_t vpc_ct_default_size(uint32_t n_ifaces);

#endif /* VPC_NAMES_H */
