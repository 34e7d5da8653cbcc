/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd_cli.h -- vpcctl's verbs on a topology kept in etcd (docs/cli.md,
 * "The topology in etcd"; keys: etcd_store.h):
 *
 *   vpcctl publish FILE --etcd URL [--prefix P] [--wait [--timeout S]]
 *   vpcctl status --etcd URL [--prefix P] [--json]
 *   vpcctl agent --etcd URL --host NAME [--prefix P]
 *                (--engine dpdk [--socket PATH] | --engine xdp [--instance NAME] | --dry-run)
 *
 * Each takes vpcctl's arguments after the verb and returns its exit
 * status: 0 success, 1 failure (invalid input, etcd unreachable, a wait
 * that ended without every host), 2 usage error.
 */
#ifndef VPC_ETCD_CLI_H
#define VPC_ETCD_CLI_H

int vpcctl_publish(int argc, char **argv);
int vpcctl_status(int argc, char **argv);
int vpcctl_agent(int argc, char **argv);	/* agent.c */

#endif /* VPC_ETCD_CLI_H */
