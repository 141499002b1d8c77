/* rt_test_files.h - output-directory helpers shared by the runtime suites that
 * check files (test_rt_rec.c, test_rt_ei.c, test_rt_balance.c,
 * test_rt_float.c): a temporary directory, .npy and
 * text readers, and numpy checks. Include once per test file, after defining
 * RT_TEST_DIR_PREFIX (e.g. "/tmp/rt_rec_"). */
#ifndef EIC_RT_TEST_FILES_H
#define EIC_RT_TEST_FILES_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_abi.h"
#include "rt_npy.h"

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "%sXXXXXX", RT_TEST_DIR_PREFIX);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Reads `name` in dir: header fields (the header is padded to 64 bytes), and
 * checks that the data fill the file exactly as the header says. Returns the
 * data (malloc'd). */
static void *read_npy(const char *name, char *descr, int64_t *rows, int64_t *cols, size_t rowbytes) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    long hl;
    RtError err;
    ck_assert_int_eq(rt_npy_parse_header(f, descr, 64, rows, cols, &hl, &err), RT_OK);
    ck_assert_int_eq(hl % 64, 0);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    ck_assert_int_eq(size, hl + (long)(*rows * (int64_t)rowbytes));
    void *data = malloc((size_t)(size - hl) + 1);
    fseek(f, hl, SEEK_SET);
    ck_assert_int_eq(fread(data, 1, (size_t)(size - hl), f), (size_t)(size - hl));
    fclose(f);
    return data;
}

/* The text of `name` in dir (a static buffer, valid until the next call). */
static char *read_text(const char *name) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Runs python3 with numpy on `code` (dir is in the variable d); returns 0 on
 * success, 1 on failure, -1 if python3 or numpy is not available. */
static int python(const char *code) {
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import numpy as np, json, math; d='%s'; %s\"", dir, code);
    return system(cmd) == 0 ? 0 : 1;
}

#endif
