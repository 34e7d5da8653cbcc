/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * addr.c -- the topology's values as text: IPv4 addresses, CIDRs, MACs and
 * names parsed strictly (no leading zeros, no spaces, nothing after) and
 * formatted back.  Used by the loader, the validator's messages, show and
 * the tests; depends on nothing else of control/ (so neither the loader
 * nor the validator calls into the other for them).  Stateless.
 */
#include "topo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
topo_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int
topo_parse_ipv4(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;
		while (isdigit((unsigned char)*s)) {
			/* No leading zeros: "010" is octal to some tools. */
			if (digits == 1 && v == 0)
				return -EINVAL;
			v = v * 10 + (unsigned int)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (digits == 0)
			return -EINVAL;
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	*addr = a;
	return 0;
}

int
topo_parse_cidr(const char *s, uint32_t *addr, uint8_t *len)
{
	const char *slash = strchr(s, '/');
	char ip[16];
	uint64_t l;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (topo_parse_ipv4(ip, addr) < 0)
		return -EINVAL;
	if (slash[1] == '0' && slash[2] != '\0')
		return -EINVAL;
	if (topo_parse_uint(slash + 1, 32, &l) < 0)
		return -EINVAL;
	*len = (uint8_t)l;
	return 0;
}

int
topo_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = *s++;
			if (!isxdigit((unsigned char)c))
				return -EINVAL;
			v = v << 4 | (unsigned int)(isdigit((unsigned char)c) ?
				c - '0' : tolower((unsigned char)c) - 'a' + 10);
		}
		mac[i] = (uint8_t)v;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

const char *
topo_fmt_ip(char *buf, uint32_t a)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return buf;
}

const char *
topo_fmt_cidr(char *buf, uint32_t addr, uint8_t len)
{
	char ip[16];
	snprintf(buf, 19, "%s/%u", topo_fmt_ip(ip, addr), len);
	return buf;
}

const char *
topo_fmt_mac(char *buf, const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

bool
topo_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VPC_NAME_MAX)
		return false;
	if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		      isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}
