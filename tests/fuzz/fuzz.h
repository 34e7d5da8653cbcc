/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h -- what every fuzz target opens with: libFuzzer's entry point,
 * UBSan told to stop at its first report (so that libFuzzer records it),
 * and CHECK, an invariant that says which and traps.
 */
#ifndef VPC_FUZZ_H
#define VPC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *__ubsan_default_options(void);
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	__builtin_trap(); } } while (0)

#endif /* VPC_FUZZ_H */
