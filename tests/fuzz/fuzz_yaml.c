/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_yaml -- libFuzzer target: a topology file through the loader, the
 * validator and the compiler (control/), as `vpcctl compile` does it.
 *
 * Input: the file's bytes.
 *
 * Invariants:
 *  - no crash, leak or undefined behaviour on any input; the diagnostics
 *    sort and print;
 *  - a model with no error compiles, or fails only with E2BIG (past an
 *    image limit) or ENOMEM;
 *  - what the compiler emits, the image checker accepts, and the reader
 *    takes back; the same model compiles to the same bytes twice.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "diag.h"
#include "topo.h"
#include "vpc_image_io.h"
#include "fuzz.h"


static FILE *devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpc_diag d;
	char err[256];

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		CHECK(devnull != NULL);
	}
	/* the input as a file's contents: not NUL-terminated */
	char *text = malloc(size ? size : 1);
	CHECK(text != NULL);
	memcpy(text, data, size);

	vpc_diag_init(&d, "fuzz.yaml");
	struct topo *t = topo_load_string(text, size, &d);
	if (t != NULL)
		topo_validate(t, &d);
	vpc_diag_sort(&d);
	vpc_diag_print(&d, devnull);

	if (t != NULL && d.n_entries == 0 && d.n_dropped == 0) {
		CHECK(t->validated);
		errno = 0;
		struct vpc_image *img = topo_compile(t);
		if (img == NULL) {
			CHECK(errno == E2BIG || errno == ENOMEM);
		} else {
			int rc = vpc_image_check(img->buf, img->size, err, sizeof(err));
			if (rc != 0) {
				fprintf(stderr, "fuzz_yaml: the compiler's image is refused: %s\n", err);
				__builtin_trap();
			}
			struct vpc_image *back = vpc_image_from_bytes(img->buf, img->size,
								      err, sizeof(err));
			CHECK(back != NULL && back->size == img->size);
			vpc_image_free(back);
			struct vpc_image *again = topo_compile(t);
			CHECK(again != NULL && again->size == img->size &&
			      memcmp(again->buf, img->buf, img->size) == 0);
			vpc_image_free(again);
			vpc_image_free(img);
		}
	}
	topo_free(t);
	vpc_diag_fini(&d);
	free(text);
	return 0;
}
