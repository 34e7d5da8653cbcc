/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcd -- the DPDK vswitch daemon (docs/cli.md).
 *
 *   vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [--busy-poll]
 *        [-- EAL options]
 *
 * Opens the topology's host ports (host.ports: vhost-user, tap, af_packet,
 * af_xdp, pcap as DPDK virtual devices; pci by address), and forwards on
 * every lcore given to the EAL (default: one).  Run-to-completion: each
 * port's one rx queue is owned by one lcore (ports are dealt round-robin);
 * every lcore has its own tx queue on every port that has enough of them,
 * so it transmits there without locks.  A device with fewer tx queues
 * than lcores (af_packet, pcap) shares them: a per-port spinlock, taken
 * once per burst sent to that port, never per packet.  The connection table is shared by all lcores
 * (lock-free lookups, RCU: each worker reports a quiescent state once per
 * loop).  SIGINT/SIGTERM stop the workers; the final counters are printed.
 * A port that goes away (a VM stops, a tap is deleted) only fails its own
 * rx/tx: the other ports go on.
 *
 * The control socket (vpc_ctl.h; a thread of its own, never on the fast
 * path) takes `vpcctl apply`: the image is checked; the ports it adds are
 * opened (hot-plugged) and the new tables built; then the configuration
 * -- tables, port map, each worker's rx ports -- is published by one
 * pointer store.  Each worker picks it up between two bursts, so no packet
 * is ever forwarded by a mix of old and new tables; a port kept across the
 * apply stays with its worker, so no rx queue is ever polled by two
 * lcores.  After an RCU grace period the old configuration is freed and
 * the ports it alone had are closed.  A failed apply changes nothing and
 * says why.  Also `vpcctl stats` and `vpcctl conntrack list|count|flush`,
 * and the counters in DPDK telemetry.
 *
 * Per-port counters are kept by each worker under the DPDK port id, which
 * an apply never renumbers (topology port indexes it may).
 */
#include "vpcd.h"

#include <sched.h>

/* The daemon's state (vpcd.h). */
struct vpcd_state vpcd = { .cfg_lock = PTHREAD_MUTEX_INITIALIZER };
volatile sig_atomic_t vpcd_quit;

static void
on_signal(int sig)
{
	(void)sig;
	vpcd_quit = 1;
}

__attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vpcd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}


static void
print_final(void)
{
	const struct cfg *c = vpcd.cfg;
	struct vpc_stats sum;
	struct port_counters *ports = calloc(c->n_ports + 1, sizeof(*ports));

	sum_stats(c, &sum, ports);
	printf("vpcd: stopped after %" PRIu64 " packets\n", sum.packets);
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (sum.paths[p])
			printf("  path %-22s %" PRIu64 "\n", vpc_path_name((unsigned)p), sum.paths[p]);
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		if (sum.drops[r])
			printf("  drop %-22s %" PRIu64 "\n", vpc_drop_name((unsigned)r), sum.drops[r]);
	const struct vpc_ct_stats *cs = vpc_ct_stats(vpcd.ct);
	printf("  connections: %" PRIu64 " opened, %" PRIu64 " expired, %" PRIu64
	       " refused, %u tracked\n", cs->created, cs->expired, cs->refused_full,
	       vpc_ct_count(vpcd.ct));
	for (uint32_t p = 0; p < c->n_ports; p++) {
		printf("  port %-16s rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64,
		       c->img->ports[p].name, ports[p].rx, ports[p].tx, ports[p].drops);
		if (ports[p].tx_failed)
			printf(" tx-failed %" PRIu64, ports[p].tx_failed);
		putchar('\n');
	}
	fflush(stdout);
	free(ports);
}

/* Is one of the EAL options names (with its value attached or not) among
 * args?  names: "-l", "--lcores", ... */
static bool
eal_has(char **args, int n, const char *const *names)
{
	for (int i = 1; i < n; i++)
		for (const char *const *nm = names; *nm != NULL; nm++) {
			size_t k = strlen(*nm);
			if (strncmp(args[i], *nm, k) != 0)
				continue;
			/* "-l", "-l0-3", "--lcores", "--lcores=0-3"; not "--lcoresX" */
			if (args[i][k] == '\0' || (*nm)[1] != '-' || args[i][k] == '=')
				return true;
		}
	return false;
}

/* The first CPU this process may run on (the one lcore of the default). */
static int
first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

/*
 * What the user's EAL options leave out, vpcd chooses, and says so in one
 * line: one lcore (the first allowed CPU) when no -l/-c/--lcores; --no-pci
 * when the topology has no PCI port and no device is allowed or blocked;
 * -m 1024 (MB) with --no-huge and no -m/--socket-mem (the EAL's 64 MB
 * default holds no mbuf pool).  Appends to eargs (room for 3 made in
 * main); made strings go to *made (freed by the caller).
 */
static int
eal_defaults(char **eargs, int ne, const struct vpc_image *img, char **made, int *n_made)
{
	static const char *const lcore_opts[] = { "-l", "-c", "--lcores", "--coremask", NULL };
	static const char *const pci_opts[] = { "--no-pci", "-a", "--allow", "-b", "--block",
						"--pci-whitelist", "--pci-blacklist", NULL };
	static const char *const mem_opts[] = { "-m", "--socket-mem", NULL };
	static const char *const nohuge_opt[] = { "--no-huge", NULL };
	char said[256] = "";
	int n0 = ne;

	if (!eal_has(eargs, n0, lcore_opts)) {
		int cpu = first_cpu();
		char *a = malloc(32);
		if (a == NULL)
			die("out of memory");
		snprintf(a, 32, "-l%d", cpu);
		eargs[ne++] = made[(*n_made)++] = a;
		snprintf(said + strlen(said), sizeof(said) - strlen(said),
			 "%sone lcore (CPU %d; -l for more)", said[0] ? ", " : "", cpu);
	}
	bool has_pci_port = false;
	for (uint32_t i = 0; i < img->n_hports; i++)
		has_pci_port |= img->hports[i].type == VPC_HPORT_PCI;
	if (!has_pci_port && !eal_has(eargs, n0, pci_opts)) {
		eargs[ne++] = (char *)"--no-pci";
		snprintf(said + strlen(said), sizeof(said) - strlen(said),
			 "%s--no-pci (no pci port)", said[0] ? ", " : "");
	}
	if (eal_has(eargs, n0, nohuge_opt) && !eal_has(eargs, n0, mem_opts)) {
		eargs[ne++] = (char *)"-m1024";
		snprintf(said + strlen(said), sizeof(said) - strlen(said),
			 "%s-m 1024 (--no-huge without -m)", said[0] ? ", " : "");
	}
	if (said[0])
		printf("vpcd: EAL options chosen: %s\n", said);
	return ne;
}

/* Flow logs: a ring per worker and one for the control thread (its
 * sweep deletes connections), the pipelines and the connection table
 * counting into them, the writer thread. */
static void
flow_logs_start(const char *path, uint32_t interval, const char *account, uint64_t max_size)
{
	vpcd.fl = vpc_flowlog_create(interval, VPCD_FLOW_IFACES);
	if (vpcd.fl == NULL)
		die("flow logs: %s", strerror(errno));
	for (unsigned int i = 0; i <= vpcd.n_workers; i++) {
		unsigned int l = i < vpcd.n_workers ? vpcd.workers[i].lcore : VPC_FLOWLOG_NON_EAL;
		int rc = vpc_flowlog_attach(vpcd.fl, l, VPCD_FLOW_RING);
		if (rc < 0)
			die("flow logs: a ring for lcore %u: %s", l, strerror(-rc));
	}
	vpc_ct_set_flowlog(vpcd.ct, vpcd.fl);
	for (unsigned int i = 0; i < vpcd.n_workers; i++)
		vpc_pipeline_set_flowlog(vpcd.workers[i].pl, vpcd.fl);
	int rc = fl_start(path, account, max_size, VPCD_FLOW_KEEP);
	if (rc < 0)
		die("flow logs: %s: %s", path, strerror(-rc));
	printf("vpcd: flow logs to %s, interval %u s\n", strcmp(path, "-") == 0 ? "stdout" : path,
	       interval);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: vpcd --config TOPO.yaml [--host NAME] [--socket PATH] [--max-connections N]\n"
		   "            [--busy-poll] [--flow-logs FILE|- [--flow-log-interval S]\n"
		   "            [--flow-log-account ID] [--flow-log-max-size SIZE]] [-- EAL options]\n");
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *sock = VPC_CTL_DEFAULT_SOCKET, *host = NULL;
	uint64_t max_conns = 0;
	int eal_at = argc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_at = i;
			break;
		}
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'H' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "busy-poll", no_argument, NULL, 'B' },
		{ "socket", required_argument, NULL, 'S' },
		{ "flow-logs", required_argument, NULL, 'F' },
		{ "flow-log-interval", required_argument, NULL, 'I' },
		{ "flow-log-account", required_argument, NULL, 'a' },
		{ "flow-log-max-size", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fl_path = NULL, *fl_account = NULL;
	uint64_t fl_interval = VPC_FLOW_INTERVAL_DEFAULT, fl_max = VPCD_FLOW_MAX_SIZE;
	bool fl_opts = false;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(eal_at, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'H':
			host = optarg;	/* which entry of hosts: this is */
			break;
		case 'B':
			vpcd.busy_poll = true;
			break;
		case 'M':
			max_conns = strtoull(optarg, NULL, 10);
			if (max_conns == 0 || max_conns > (1u << 26))
				die("--max-connections needs 1..%u", 1u << 26);
			break;
		case 'S':
			sock = optarg;
			break;
		case 'F':
			fl_path = optarg;
			break;
		case 'I':
			fl_interval = strtoull(optarg, NULL, 10);
			if (fl_interval == 0 || fl_interval > 3600)
				die("--flow-log-interval needs 1..3600 seconds");
			fl_opts = true;
			break;
		case 'a':
			fl_account = optarg;
			fl_opts = true;
			break;
		case 'z': {
			char *end;
			fl_max = strtoull(optarg, &end, 10);
			if (*end == 'k' || *end == 'K')
				fl_max <<= 10, end++;
			else if (*end == 'M')
				fl_max <<= 20, end++;
			else if (*end == 'G')
				fl_max <<= 30, end++;
			if (*end != '\0' || fl_max < 1024)
				die("--flow-log-max-size needs a size of at least 1k (bytes; k, M, G)");
			fl_opts = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL) {
		usage(stderr);
		return 2;
	}
	if (fl_opts && fl_path == NULL)
		die("--flow-log-interval, --flow-log-account and --flow-log-max-size need --flow-logs");

	/* The tables and the host's ports, from the topology. */
	struct vpc_image *img = vpc_image_load_host(config, NULL, host, stderr);
	if (img == NULL)
		die("%s: invalid topology", config);
	for (uint32_t p = 0; p < img->n_ports; p++)
		if (hport_of(img, img->ports[p].name) == NULL &&
		    (img->ports[p].kind != VPC_PORT_UPLINK || vpc_lower_uplink_needed(img)))
			die("%s: port '%s' has no entry in host.ports (how is it realised on this host?)",
			    config, img->ports[p].name);
	if (img->n_ports > RTE_MAX_ETHPORTS)
		die("%s: %u ports; this DPDK build opens at most %d", config, img->n_ports,
		    RTE_MAX_ETHPORTS);

	/* EAL: the user's arguments; PCI devices of the topology allowed. */
	char **eargs = calloc((size_t)(argc - eal_at) + img->n_hports + 2 + 3, sizeof(char *));
	/* rte_eal_init() may reorder eargs: the strings made here are freed
	 * from a list of their own. */
	char **allow = calloc(img->n_hports + 2, sizeof(char *));
	int ne = 0, na = 0;
	if (eargs == NULL || allow == NULL)
		die("out of memory");
	eargs[ne++] = argv[0];
	for (int i = eal_at + 1; i < argc; i++)
		eargs[ne++] = argv[i];
	for (uint32_t i = 0; i < img->n_hports; i++)
		if (img->hports[i].type == VPC_HPORT_PCI) {
			char *a = malloc(160);
			if (a == NULL)
				die("out of memory");
			snprintf(a, 160, "--allow=%s", img->hports[i].a);
			eargs[ne++] = allow[na++] = a;
		}
	ne = eal_defaults(eargs, ne, img, allow, &na);
	fflush(stdout);
	if (rte_eal_init(ne, eargs) < 0)
		die("DPDK initialisation failed: %s", rte_strerror(rte_errno));
	vpcd.tsc_hz = rte_get_tsc_hz();

	size_t rsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	vpcd.rcu = rte_zmalloc("vpcd_rcu", rsz, RTE_CACHE_LINE_SIZE);
	if (vpcd.rcu == NULL || rte_rcu_qsbr_init(vpcd.rcu, RTE_MAX_LCORE) != 0)
		die("RCU: out of memory");
	uint32_t cmax = max_conns ? (uint32_t)max_conns : vpc_ct_default_size(img->n_ifaces);
	vpcd.ct = vpc_ct_create_shared("vpcd", cmax, (int)rte_socket_id(), vpcd.rcu);
	if (vpcd.ct == NULL)
		die("connection table of %u entries: %s", cmax, strerror(errno));
	vpcd.mp = rte_pktmbuf_pool_create("vpcd", N_MBUFS + RTE_MAX_ETHPORTS * (RX_DESC + TX_DESC),
				       256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (vpcd.mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));

	/* Workers: every lcore. */
	unsigned int lc;
	RTE_LCORE_FOREACH(lc) {
		struct worker *w = &vpcd.workers[vpcd.n_workers];
		w->idx = vpcd.n_workers;
		w->lcore = lc;
		w->txq = (uint16_t)vpcd.n_workers;
		vpcd.n_workers++;
	}

	/* The first configuration: every port opened, dealt to the workers. */
	char err[256];
	if (lb_init() < 0)
		die("load balancers' probe ring: %s", rte_strerror(rte_errno));
	vpcd.cfg = cfg_build(img, NULL, 1, false, err, sizeof(err));
	if (vpcd.cfg == NULL)
		die("%s", err);
	lb_retable(vpcd.cfg);
	for (unsigned int i = 0; i < vpcd.n_workers; i++) {
		vpcd.workers[i].pl = vpc_pipeline_create(vpcd.cfg->tables, vpcd.ct);
		if (vpcd.workers[i].pl == NULL)
			die("out of memory");
	}
	if (fl_path != NULL)
		flow_logs_start(fl_path, (uint32_t)fl_interval, fl_account, fl_max);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A control client that goes away must not take the daemon along. */
	signal(SIGPIPE, SIG_IGN);
	tel_register();
	int lfd = ctl_listen(sock);
	pthread_t ctl;
	if (pthread_create(&ctl, NULL, ctl_thread, (void *)(intptr_t)lfd) != 0)
		die("control thread: %s", strerror(errno));
	uint32_t n_open = 0;
	for (uint32_t p = 0; p < vpcd.cfg->n_ports; p++)
		n_open += vpcd.cfg->ethdev[p] != PORT_UNREALISED;
	printf("vpcd: forwarding between %u port%s on %u lcore%s%s\n", n_open, n_open == 1 ? "" : "s", vpcd.n_workers,
	       vpcd.n_workers == 1 ? "" : "s",
	       n_open < vpcd.cfg->n_ports ? " (no uplink: no internet gateway)" : "");
	fflush(stdout);
	for (unsigned int i = 1; i < vpcd.n_workers; i++)
		rte_eal_remote_launch(worker_main, &vpcd.workers[i], vpcd.workers[i].lcore);
	worker_main(&vpcd.workers[0]);
	rte_eal_mp_wait_lcore();
	/* The control thread sees vpcd_quit within one tick. */
	pthread_join(ctl, NULL);
	close(lfd);
	unlink(sock);

	if (vpcd.fl != NULL)
		fl_stop();	/* what is left, every live connection's too */
	print_final();
	for (uint32_t p = 0; p < vpcd.cfg->n_ports; p++) {
		uint16_t id = vpcd.cfg->ethdev[p];
		if (id == PORT_UNREALISED)
			continue;
		if (IS_KPORT(id)) {
			kport_close(id);
			continue;
		}
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
	}
	for (unsigned int i = 0; i < vpcd.n_workers; i++)
		vpc_pipeline_free(vpcd.workers[i].pl);
	vpc_ct_set_flowlog(vpcd.ct, NULL);
	vpc_ct_free(vpcd.ct);
	vpc_flowlog_free(vpcd.fl);
	cfg_free(vpcd.cfg);
	rte_free(vpcd.rcu);
	capture_free();
	rte_mempool_free(vpcd.mp);
	rte_eal_cleanup();
	for (int i = 0; i < na; i++)
		free(allow[i]);
	free(allow);
	free(eargs);
	return 0;
}
