/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stand-alone driver for the fuzz targets, for compilers and builds without
 * libFuzzer (gcc, CI): runs LLVMFuzzerTestOneInput over every file named on
 * the command line, and over every regular file of each directory named,
 * then over every prefix of each of them (truncation is the parser's most
 * common hostile input). Each input is handed over in a heap block of
 * exactly its size, as libFuzzer does, so a sanitizer build catches a read
 * past the end. Exits 0 when every input ran, 1 when a file could not be
 * read or none was found, 2 on bad usage; a broken invariant aborts inside the
 * target.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* files larger than this are not frames: refuse rather than exhaust RAM */
#define FUZZ_MAX_INPUT (1u << 20)

static unsigned long n_runs;

/* Feed data[0..size) and each of its prefixes, each in its own block. */
static void run_all_prefixes(const uint8_t *data, size_t size)
{
	size_t n;

	for (n = 0; n <= size; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		if (!copy) {
			fprintf(stderr, "fuzz_main: out of memory\n");
			exit(1);
		}
		if (n)
			memcpy(copy, data, n);
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
		n_runs++;
	}
}

/* Returns 0, or -errno when the file cannot be read. */
static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	FILE *fp = fopen(path, "rb");
	int err = 0;
	int c;

	if (!fp)
		return -errno;
	buf = malloc(FUZZ_MAX_INPUT);
	if (!buf) {
		err = -ENOMEM;
		goto err;
	}
	while ((c = getc(fp)) != EOF) {
		if (size == FUZZ_MAX_INPUT) {
			err = -EFBIG;
			goto err;
		}
		buf[size++] = (uint8_t)c;
	}
	if (ferror(fp)) {
		err = -EIO;
		goto err;
	}
	run_all_prefixes(buf, size);
err:
	free(buf);
	fclose(fp);
	return err;
}

static int run_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int err = 0, rc;

	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub)) {
			err = -ENAMETOOLONG;
			continue;
		}
		if (stat(sub, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = run_file(sub);
		if (rc) {
			fprintf(stderr, "fuzz_main: %s: %s\n", sub,
				strerror(-rc));
			err = rc;
		}
	}
	closedir(dir);
	return err;
}

int main(int argc, char **argv)
{
	int i, rc, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		rc = run_path(argv[i]);
		if (rc) {
			fprintf(stderr, "fuzz_main: %s: %s\n", argv[i],
				strerror(-rc));
			failed = 1;
		}
	}
	printf("fuzz_main: %lu inputs (files and their prefixes) ran\n",
	       n_runs);
	if (n_runs == 0) {
		fprintf(stderr, "fuzz_main: no input found\n");
		return 1;
	}
	return failed;
}
