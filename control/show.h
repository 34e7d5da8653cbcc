/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * show.h -- a table image in readable form (vpcctl show): text for people,
 * JSON for scripts.  It prints the image, not the model, so what it shows
 * is exactly what a dataplane would load.
 */
#ifndef VPC_SHOW_H
#define VPC_SHOW_H

#include <stdio.h>

#include "vpc_image_io.h"

void vpc_show_text(const struct vpc_image *img, FILE *out);
void vpc_show_json(const struct vpc_image *img, FILE *out);

#endif /* VPC_SHOW_H */
