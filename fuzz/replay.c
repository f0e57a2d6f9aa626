/* SPDX-License-Identifier: MIT */
/*
 * A main() for builds without libFuzzer (gcc, valgrind): runs
 * LLVMFuzzerTestOneInput once on each file named on the command line, so
 * the checked-in corpora are replayed as regression tests by every build.
 * Nothing is written anywhere.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_FILE_MAX (64u << 20)

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= REPLAY_FILE_MAX) {
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* An exact-size copy, as libFuzzer passes: ASan then sees any read
	 * past the end of the input. */
	*out = malloc(n ? n : 1);
	if (!*out) {
		free(buf);
		return -ENOMEM;
	}
	if (n)
		memcpy(*out, buf, n);
	free(buf);
	*len = n;
	return 0;
}

int main(int argc, char **argv)
{
	int i, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n"
			"Runs the fuzz target once on each FILE.\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		int r = read_file(argv[i], &data, &len);

		if (r < 0) {
			fprintf(stderr, "%s: cannot read %s: %s\n", argv[0], argv[i],
				strerror(-r));
			failed++;
			continue;
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		printf("ok %d - %s (%zu bytes)\n", i, argv[i], len);
	}
	printf("%d input(s) replayed, %d unreadable\n", argc - 1, failed);
	return failed ? 1 : 0;
}
