/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compile.h -- validated topology model -> table image.
 *
 * Everything the dataplane needs is resolved here, so the engines never
 * interpret the topology: per-port interface records, the per-VPC L2
 * table, each route table's entries with its implicit local route, longest
 * prefix first, security-group rules with group peers expanded to member
 * addresses and an omitted egress list made an explicit allow-all, the
 * default group and main table made explicit, derived MACs and VNIs, the
 * VPC routers' MACs, each subnet's gateway address and each VPC's DHCP
 * options with AWS's defaults.  The output is
 * deterministic: the same file always compiles to the same bytes.
 */
#ifndef VPC_COMPILE_H
#define VPC_COMPILE_H

#include <stdio.h>

#include "topo.h"
#include "vpc_image_io.h"

/*
 * Compile a model that topo_validate() accepted.  Returns a sealed image,
 * or NULL with errno (EINVAL: not validated; E2BIG: past an image limit,
 * e.g. too many rules after group expansion; ENOMEM).
 */
struct vpc_image *topo_compile(const struct topo *t);

/* The tables of one entry of t's hosts: (an index), or of the whole
 * topology (VPC_INDEX_NONE: as topo_compile). */
struct vpc_image *topo_compile_host(const struct topo *t, uint32_t host);

/*
 * The tables of a file that is either a topology (loaded, validated and
 * compiled) or an image written by `vpcctl compile` (read and checked).
 * On failure prints every error to errs (FILE:LINE:COL: message for a
 * topology) and returns NULL.
 */
struct vpc_image *vpc_image_load(const char *path, FILE *errs);

/*
 * The tables one host runs, from a topology file (or an image file, as
 * vpc_image_load).  host NULL: the whole topology.  A topology with a
 * `hosts:` list: host's view of it (its interfaces, ports and uplink; the
 * others reached over the overlay); an unknown host is an error.  A
 * topology without `hosts:` is one host's whole: every host name gets it.
 * name is what errors call the file (an etcd key, say) when it is not path.
 * On failure prints every error to errs and returns NULL.
 */
struct vpc_image *vpc_image_load_host(const char *path, const char *name, const char *host,
				      FILE *errs);

/* VPC_DEFAULT_UPLINK_MAC and VPC_DEFAULT_GATEWAY_MAC: topo.h. */

#endif /* VPC_COMPILE_H */
