/* SPDX-License-Identifier: BSD-3-Clause */
/* vpcctl_xdp.h -- vpcctl's verbs for the XDP engine (vpcctl_xdp.c). */
#ifndef VPCCTL_XDP_H
#define VPCCTL_XDP_H

#include <stdbool.h>

#include "vpc_image_io.h"

/* vpcctl xdp start|stop ...; exit status (2: usage). */
int vpcctl_xdp(int argc, char **argv);

/* vpcctl apply FILE --instance NAME */
int vpcctl_xdp_apply(const char *instance, const struct vpc_image *img, bool revalidate);

/* vpcctl stats | conntrack list|count|flush --instance NAME */
int vpcctl_xdp_query(const char *instance, const char *verb, const char *sub, bool json);

#endif /* VPCCTL_XDP_H */
