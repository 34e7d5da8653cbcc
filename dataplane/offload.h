/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.h -- checksums a port's sender left partial (a kernel's transmit
 * offload on a veth read by af_packet), finished in software.  Called by
 * the worker that received the burst, before the pipeline; touches only
 * the frames it is given.
 */
#ifndef VPC_OFFLOAD_H
#define VPC_OFFLOAD_H

#include <stdint.h>

#include <rte_mbuf.h>

/* Finish every partial TCP/UDP checksum of the burst (see offload.c). */
void vpc_finish_partial_csums(struct rte_mbuf **pkts, uint16_t n);

#endif /* VPC_OFFLOAD_H */
