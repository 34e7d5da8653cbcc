/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace_cli.h -- `vpcctl trace` (docs/cli.md): one packet through an
 * engine's traced pipeline, each stage's decision printed.
 *
 *   vpcctl trace FILE|--socket PATH|--instance NAME --in PORT
 *                ('DESCRIPTION' | --pcap F [--index K]) [--json]
 *                [--engine dpdk|xdp] [--host NAME]   (FILE: the file's tables)
 *
 * FILE: the topology's own tables, an empty connection table -- run by
 * vpc-replay --trace (installed beside vpcctl); --socket: vpcd's live
 * tables and connections; --instance: the XDP instance's.  Exit status:
 * 0 traced (whatever the verdict), 1 failure, 2 usage error.
 */
#ifndef VPC_TRACE_CLI_H
#define VPC_TRACE_CLI_H

int vpcctl_trace(int argc, char **argv);

#endif /* VPC_TRACE_CLI_H */
