/* SPDX-License-Identifier: BSD-3-Clause */
#include "vpc_names.h"

static const char *const action_names[] = { "drop", "forward", "reply" };
static const char *const path_names[VPC_PATH_COUNT] = {
	[VPC_PATH_NONE] = "none",
#define VPC_X(e, n) [VPC_PATH_##e] = n,
	VPC_PATHS(VPC_X)
#undef VPC_X
};
static const char *const drop_names[VPC_DROP_COUNT] = {
	[VPC_DROP_NONE] = "none",
#define VPC_X(e, n, d) [VPC_DROP_##e] = n,
	VPC_DROP_REASONS(VPC_X)
#undef VPC_X
};
static const char *const drop_descs[VPC_DROP_COUNT] = {
	[VPC_DROP_NONE] = "not dropped",
#define VPC_X(e, n, d) [VPC_DROP_##e] = d,
	VPC_DROP_REASONS(VPC_X)
#undef VPC_X
};

const char *
vpc_action_name(unsigned int a)
{
	return a < 3 ? action_names[a] : "?";
}

const char *
vpc_path_name(unsigned int p)
{
	return p < VPC_PATH_COUNT ? path_names[p] : "?";
}

const char *
vpc_drop_name(unsigned int r)
{
	return r < VPC_DROP_COUNT ? drop_names[r] : "?";
}

const char *
vpc_drop_description(unsigned int r)
{
	return r < VPC_DROP_COUNT ? drop_descs[r] : "?";
}

static const char *const state_names[] = {
#define VPC_X(e, n) [VPC_CT_##e] = n,
	VPC_CT_STATES(VPC_X)
#undef VPC_X
};

const char *
vpc_ct_state_name(unsigned int s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

uint32_t
vpc_ct_default_size(uint32_t n_ifaces)
{
	uint64_t n = (uint64_t)n_ifaces * 16384;
	return n < 65536 ? 65536 : n > (1u << 20) ? 1u << 20 : (uint32_t)n;
}
