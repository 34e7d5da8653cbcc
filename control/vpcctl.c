/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl -- the control process's command line (docs/cli.md).
 *
 *   vpcctl validate FILE            exit 0 + one-line summary, or every
 *                                   error as FILE:LINE:COL: message, exit 1
 *   vpcctl show [--json] FILE       the compiled tables; FILE may be a
 *                                   topology or a compiled image
 *   vpcctl compile FILE -o IMAGE    write the table image
 *   vpcctl apply FILE [--revalidate]
 *                                   validate, compile and push to the
 *                                   running vpcd; nothing changes on error
 *   vpcctl stats [--json]           vpcd's counters
 *   vpcctl conntrack list|count|flush [--json]
 *   vpcctl lb [--json]
 *   vpcctl capture PORT [-c N] [-w FILE.pcapng] [--direction rx|tx|both]
 *                                   a live port's frames (capture.h)
 *   (the last four take --socket PATH; default /run/vpcd/vpcd.sock, or
 *   --instance NAME: the XDP engine's instance NAME instead of vpcd)
 *   vpcctl xdp start FILE [--instance NAME] [--mode native|generic]
 *                         [--max-connections N]
 *                                   load the XDP engine, pin it under
 *                                   /sys/fs/bpf/vpc/NAME, attach to the ports
 *   vpcctl xdp stop [--instance NAME]
 *                                   detach and unpin (and stop its health
 *                                   checker, which start runs where the
 *                                   tables have load balancers' targets)
 *   vpcctl xdp health [--instance NAME]
 *                                   that health checker, in the foreground
 *   vpcctl publish FILE --etcd URL [--prefix P] [--wait [--timeout S]]
 *   vpcctl status --etcd URL [--prefix P] [--json]
 *   vpcctl agent --etcd URL --host NAME [--prefix P]
 *                (--engine dpdk|xdp [--socket PATH|--instance NAME] | --dry-run)
 *                                   the topology kept in etcd, an agent
 *                                   per host (etcd_cli.h)
 *
 * Exit status: 0 success, 1 invalid input, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "compile.h"
#include "etcd_cli.h"
#include "show.h"
#include "trace_cli.h"
#include "topo.h"
#include "vpc_ctl.h"
#include "vpc_image_io.h"
#include "vpcctl_engine.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: vpcctl validate FILE\n"
		"       vpcctl show [--json] [--host NAME] FILE   (a topology or a compiled image)\n"
		"       vpcctl compile [--host NAME] FILE -o IMAGE\n"
		"       vpcctl apply FILE [--host NAME] [--revalidate] [--socket PATH]\n"
		"       vpcctl stats [--json] [--socket PATH]\n"
		"       vpcctl conntrack list|count|flush [--json] [--socket PATH]\n"
		"       vpcctl lb [--json] [--socket PATH]    (load balancers' targets, health)\n"
		"       vpcctl capture PORT [-c N] [-w FILE.pcapng] [--direction rx|tx|both]\n"
		"                      [--socket PATH]    (a live port's frames: pcapng, or lines)\n"
		"       (apply, stats, conntrack, lb, capture: --instance NAME for the XDP engine)\n"
		"       vpcctl trace FILE|--socket PATH|--instance NAME --in PORT\n"
		"                    ('tcp SRC:PORT > DST:PORT [flags S]' | --pcap F [--index K]) [--json]\n"
		"       vpcctl xdp start FILE [--host NAME] [--instance NAME] [--mode native|generic]\n"
		"                             [--max-connections N]\n"
		"       vpcctl xdp stop [--instance NAME]\n"
		"       vpcctl xdp health [--instance NAME]   (its health checker, in the foreground)\n"
		"       vpcctl publish FILE --etcd URL [--prefix P] [--wait [--timeout S]]\n"
		"       vpcctl status --etcd URL [--prefix P] [--json]\n"
		"       vpcctl agent --etcd URL --host NAME [--prefix P]\n"
		"                    (--engine dpdk [--socket PATH] | --engine xdp [--instance NAME]\n"
		"                     | --dry-run)\n");
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
	const char *path = NULL, *host = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			host = argv[++i];
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
	struct vpc_image *img = vpc_image_load_host(path, NULL, host, stderr);
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
	const char *in = NULL, *out = NULL, *host = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			host = argv[++i];
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
	struct vpc_image *img = vpc_image_load_host(in, NULL, host, stderr);
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

static int
cmd_ctl(const char *verb, int argc, char **argv)
{
	const char *sock = VPC_CTL_DEFAULT_SOCKET, *file = NULL, *sub = NULL, *instance = NULL;
	const char *host = NULL;
	uint32_t flags = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			flags |= VPC_CTL_F_JSON;
		else if (strcmp(argv[i], "--revalidate") == 0 && strcmp(verb, "apply") == 0)
			flags |= VPC_CTL_F_REVALIDATE;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc && strcmp(verb, "apply") == 0)
			host = argv[++i];
		else if (argv[i][0] != '-' && strcmp(verb, "apply") == 0 && file == NULL)
			file = argv[i];
		else if (argv[i][0] != '-' && strcmp(verb, "conntrack") == 0 && sub == NULL)
			sub = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	/* The engine: the XDP engine's instance, or vpcd's socket. */
	const struct vpcctl_engine *eng = vpcctl_engine(instance != NULL ? "xdp" : "vpcd");
	if (eng == NULL) {
		fprintf(stderr, "vpcctl: --instance: this build has no XDP engine\n");
		return 1;
	}
	const char *target = instance != NULL ? instance : sock;
	/* The same checks for either engine, before anything is asked. */
	uint32_t op = strcmp(verb, "stats") == 0 ? VPC_CTL_STATS :
		      strcmp(verb, "lb") == 0 ? VPC_CTL_LB :
		      strcmp(verb, "apply") == 0 ? VPC_CTL_APPLY :
		      sub == NULL ? 0 : strcmp(sub, "list") == 0 ? VPC_CTL_CT_LIST :
		      strcmp(sub, "count") == 0 ? VPC_CTL_CT_COUNT :
		      strcmp(sub, "flush") == 0 ? VPC_CTL_CT_FLUSH : 0;
	if (op == 0 || (op == VPC_CTL_APPLY && file == NULL)) {
		usage(stderr);
		return 2;
	}
	if (op != VPC_CTL_APPLY)
		return eng->query(target, op, flags);
	/* apply: the same checks as validate, here, before anything is sent */
	struct vpc_image *img = vpc_image_load_host(file, NULL, host, stderr);
	if (img == NULL)
		return 1;
	int ret = eng->apply(target, img, flags);
	vpc_image_free(img);
	return ret;
}

/* The engines this build has (each registers itself at start-up). */
static const struct vpcctl_engine *engines[4];
static unsigned int n_engines;

void
vpcctl_engine_register(const struct vpcctl_engine *eng)
{
	if (n_engines < sizeof(engines) / sizeof(engines[0]))
		engines[n_engines++] = eng;
}

const struct vpcctl_engine *
vpcctl_engine(const char *name)
{
	for (unsigned int i = 0; i < n_engines; i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
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
	if (strcmp(argv[1], "apply") == 0 || strcmp(argv[1], "stats") == 0 ||
	    strcmp(argv[1], "conntrack") == 0 || strcmp(argv[1], "lb") == 0)
		return cmd_ctl(argv[1], argc - 2, argv + 2);
	if (strcmp(argv[1], "trace") == 0)
		return vpcctl_trace(argc - 2, argv + 2);
	if (strcmp(argv[1], "capture") == 0)
		return vpcctl_capture(argc - 2, argv + 2);
	if (strcmp(argv[1], "publish") == 0)
		return vpcctl_publish(argc - 2, argv + 2);
	if (strcmp(argv[1], "status") == 0)
		return vpcctl_status(argc - 2, argv + 2);
	if (strcmp(argv[1], "agent") == 0)
		return vpcctl_agent(argc - 2, argv + 2);
	if (strcmp(argv[1], "xdp") == 0) {
		const struct vpcctl_engine *x = vpcctl_engine("xdp");
		if (x == NULL || x->verbs == NULL) {
			fprintf(stderr, "vpcctl: this build has no XDP engine\n");
			return 1;
		}
		int r = x->verbs(argc - 2, argv + 2);
		if (r == 2)
			usage(stderr);
		return r;
	}
	fprintf(stderr, "vpcctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
