/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl -- the control process's command line (spec/cli.md).
 *
 *   vpcctl validate FILE            exit 0 + one-line summary, or every
 *                                   error as FILE:LINE:COL: message, exit 1
 *   vpcctl show [--json] FILE       the compiled tables; FILE may be a
 *                                   topology or a compiled image
 *   vpcctl compile FILE -o IMAGE    write the table image
 *
 * Exit status: 0 success, 1 invalid input, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "show.h"
#include "topo.h"
#include "vpc_image_io.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: vpcctl validate FILE\n"
		"       vpcctl show [--json] FILE      (a topology or a compiled image)\n"
		"       vpcctl compile FILE -o IMAGE\n");
}

static int
cmd_validate(int argc, char **argv)
{
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	struct vpc_image *img = vpc_image_load(argv[0], stderr);
	if (img == NULL)
		return 1;
	uint32_t n_user_sgs = 0, n_user_rt = 0;
	for (uint32_t i = 0; i < img->n_sgs; i++)
		n_user_sgs += !(img->sgs[i].flags & VPC_SG_F_IMPLICIT);
	n_user_rt = img->n_rtables;
	printf("%s: valid: %u VPC%s, %u subnet%s, %u route table%s, "
	       "%u security group%s (%u implicit), %u interface%s, %u elastic IP%s\n",
	       argv[0], img->n_vpcs, img->n_vpcs == 1 ? "" : "s",
	       img->n_subnets, img->n_subnets == 1 ? "" : "s",
	       n_user_rt, n_user_rt == 1 ? "" : "s",
	       img->n_sgs, img->n_sgs == 1 ? "" : "s", img->n_sgs - n_user_sgs,
	       img->n_ifaces, img->n_ifaces == 1 ? "" : "s",
	       img->n_eips, img->n_eips == 1 ? "" : "s");
	vpc_image_free(img);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	bool json = false;
	const char *path = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	struct vpc_image *img = vpc_image_load(path, stderr);
	if (img == NULL)
		return 1;
	if (json)
		vpc_show_json(img, stdout);
	else
		vpc_show_text(img, stdout);
	vpc_image_free(img);
	return 0;
}

static int
cmd_compile(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (in == NULL && argv[i][0] != '-')
			in = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (in == NULL || out == NULL) {
		usage(stderr);
		return 2;
	}
	struct vpc_image *img = vpc_image_load(in, stderr);
	if (img == NULL)
		return 1;
	int ret = vpc_image_write_file(img, out);
	if (ret < 0)
		fprintf(stderr, "%s: cannot write: %s\n", out, strerror(-ret));
	else
		printf("%s: %zu bytes\n", out, img->size);
	vpc_image_free(img);
	return ret < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 2, argv + 2);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 2, argv + 2);
	if (strcmp(argv[1], "compile") == 0)
		return cmd_compile(argc - 2, argv + 2);
	fprintf(stderr, "vpcctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
