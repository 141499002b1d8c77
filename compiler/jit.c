/* jit.c - ORC LLJIT for generated kernels, with an on-disk object cache.
 *
 * Modules never reach LLJIT as IR: jit_add_module optimises them and emits
 * an object with cg_emit_object_buffer (the AOT emitter), so JIT and AOT run
 * the same machine code and a cache hit is just "add this object". See jit.h
 * for the cache contract.
 *
 * Cache file layout (all integers little-endian as on the host):
 *   "EICOBJ1\n"  magic, 8 bytes
 *   key          64 hex digits: must equal the file name's key
 *   size         uint64: object bytes that follow
 *   digest       32 bytes: BLAKE3 of the object bytes
 *   object       `size` bytes
 */
#define _GNU_SOURCE 1   /* dl_iterate_phdr */
#include "jit.h"

#include <errno.h>
#include <link.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/blake3.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef EIC_VERSION
#define EIC_VERSION "unknown"
#endif

#define CACHE_MAGIC "EICOBJ1\n"
#define CACHE_HEADER (8 + 64 + 8 + LLVM_BLAKE3_OUT_LEN)

struct Jit {
    CgTarget target;
    LLVMOrcLLJITRef lljit;
    LLVMOrcJITDylibRef jd;
    LLVMContextRef cx;
    char cache_dir[1024];   /* "" : no cache */
    JitStats stats;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Copies an ORC error message into err and consumes the error. */
static int orc_fail(LLVMErrorRef e, const char *what, char *err, size_t errlen)
{
    char *m = LLVMGetErrorMessage(e);
    snprintf(err, errlen, "%s: %s", what, m);
    LLVMDisposeErrorMessage(m);
    return -1;
}

/* ---- symbols ----------------------------------------------------------------- */

/* libm and libc functions that generated code may reference: llvm.log/sin/
 * cos/pow intrinsics become calls, tanh is called directly, and memset/memcpy
 * may appear from loop idioms. Bound explicitly so that nothing depends on
 * -rdynamic or on which libraries the process happens to have loaded. */
typedef struct HostSym { const char *name; uintptr_t addr; } HostSym;

static const HostSym *host_symbols(void)
{
    static HostSym t[24];
    if (!t[0].name) {
        int n = 0;
#define S(f) t[n++] = (HostSym){#f, (uintptr_t)&f}
        S(exp); S(log); S(sin); S(cos); S(tanh); S(pow); S(fma); S(floor); S(round);
        S(expf); S(logf); S(sinf); S(cosf); S(tanhf); S(powf); S(fmaf); S(floorf); S(roundf);
        S(memset); S(memcpy); S(memmove);
#undef S
    }
    return t;
}

static int define_symbols(Jit *j, const RtAbiSymbol *rt, char *err, size_t errlen)
{
    const HostSym *h = host_symbols();
    int nh = 0, nr = 0;
    while (h[nh].name)
        nh++;
    while (rt && rt[nr].name)
        nr++;
    LLVMOrcCSymbolMapPair *p = calloc((size_t)(nh + nr), sizeof *p);
    LLVMJITSymbolFlags fl = {LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable, 0};
    for (int i = 0; i < nh; i++)
        p[i] = (LLVMOrcCSymbolMapPair){LLVMOrcLLJITMangleAndIntern(j->lljit, h[i].name), {h[i].addr, fl}};
    for (int i = 0; i < nr; i++)
        p[nh + i] = (LLVMOrcCSymbolMapPair){LLVMOrcLLJITMangleAndIntern(j->lljit, rt[i].name),
                                            {(LLVMOrcExecutorAddress)(uintptr_t)rt[i].addr, fl}};
    LLVMErrorRef e = LLVMOrcJITDylibDefine(j->jd, LLVMOrcAbsoluteSymbols(p, (size_t)(nh + nr)));
    free(p);
    return e ? orc_fail(e, "cannot define runtime symbols", err, errlen) : 0;
}

void jit_default_cache_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, len, "%s/eic", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.cache/eic", home);
    else
        snprintf(buf, len, "%s", "");
}

Jit *jit_create(const CgTarget *t, const JitOptions *o, char *err, size_t errlen)
{
    Jit *j = calloc(1, sizeof *j);
    j->target = *t;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->lljit, NULL);
    if (e) {
        orc_fail(e, "cannot create the JIT", err, errlen);
        free(j);
        return NULL;
    }
    j->jd = LLVMOrcLLJITGetMainJITDylib(j->lljit);
    snprintf(j->target.datalayout, sizeof j->target.datalayout, "%s",
             LLVMOrcLLJITGetDataLayoutStr(j->lljit));
    j->cx = LLVMContextCreate();
    if (o && o->cache_dir)
        snprintf(j->cache_dir, sizeof j->cache_dir, "%s", o->cache_dir);
    else
        jit_default_cache_dir(j->cache_dir, sizeof j->cache_dir);
    if (define_symbols(j, o ? o->symbols : NULL, err, errlen) != 0) {
        jit_free(j);
        return NULL;
    }
    return j;
}

void jit_free(Jit *j)
{
    if (!j)
        return;
    if (j->lljit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->lljit);
        if (e)
            LLVMConsumeError(e);
    }
    if (j->cx)
        LLVMContextDispose(j->cx);
    free(j);
}

LLVMContextRef jit_context(Jit *j)
{
    return j->cx;
}

const CgTarget *jit_target(const Jit *j)
{
    return &j->target;
}

const JitStats *jit_stats(const Jit *j)
{
    return &j->stats;
}

/* ---- cache -------------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The GNU build ID of the main executable (a hash of its code that the
 * linker writes), found by walking its PT_NOTE segments. Part of the cache
 * key because some code is generated after the key is computed (the vector
 * variants of cg_math_finish) and because a rebuilt compiler may emit other
 * code for the same IR: the project version alone would keep serving stale
 * objects to a rebuilt eic. */
typedef struct { const uint8_t *id; size_t n; } BuildId;

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    BuildId *b = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const uint8_t *desc = p + sizeof *nh + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(p + sizeof *nh, "GNU", 4)
                && desc + nh->n_descsz <= end) {
                b->id = desc;
                b->n = nh->n_descsz;
                return 1;
            }
            p = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1;   /* the first object is the executable: stop there either way */
}

void jit_cache_key(LLVMModuleRef m, const CgTarget *t, char key[65])
{
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    unsigned maj, min, pat;
    LLVMGetVersion(&maj, &min, &pat);
    char ver[128];
    int n = snprintf(ver, sizeof ver, "eic-cache-2|eic %s|llvm %u.%u.%u|", EIC_VERSION, maj, min, pat);
    llvm_blake3_hasher_update(&h, ver, (size_t)n);
    BuildId bid = {NULL, 0};
    dl_iterate_phdr(find_build_id, &bid);
    llvm_blake3_hasher_update(&h, &bid.n, sizeof bid.n);
    if (bid.n) llvm_blake3_hasher_update(&h, bid.id, bid.n);
    /* NUL separators keep ("ab","c") and ("a","bc") apart */
    llvm_blake3_hasher_update(&h, t->triple, strlen(t->triple) + 1);
    llvm_blake3_hasher_update(&h, t->cpu, strlen(t->cpu) + 1);
    llvm_blake3_hasher_update(&h, t->features, strlen(t->features) + 1);
    const char *tuning = cg_tuning_desc();
    llvm_blake3_hasher_update(&h, tuning, strlen(tuning) + 1);
    /* the module as bitcode: deterministic, and 3x faster to produce than
     * the text form (0.09 against 0.25 ms for COBA) */
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(m);
    llvm_blake3_hasher_update(&h, LLVMGetBufferStart(bc), LLVMGetBufferSize(bc));
    LLVMDisposeMemoryBuffer(bc);
    uint8_t out[32];
    llvm_blake3_hasher_finalize(&h, out, sizeof out);
    hex(out, sizeof out, key);
}

static void digest(const void *p, size_t n, uint8_t out[LLVM_BLAKE3_OUT_LEN])
{
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    llvm_blake3_hasher_update(&h, p, n);
    llvm_blake3_hasher_finalize(&h, out, LLVM_BLAKE3_OUT_LEN);
}

/* mkdir -p; returns 0 if `dir` exists as a directory afterwards. */
static int make_dirs(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *s = tmp + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(tmp, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Reads a whole file into malloc'd memory; NULL if unreadable. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            buf = realloc(buf, cap);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* The object of a valid cache file for `key`, or NULL (missing or
 * invalid; *rejected tells which). */
static LLVMMemoryBufferRef cache_load(const char *path, const char *key, bool *rejected)
{
    size_t n = 0;
    uint8_t *b = read_all(path, &n);
    *rejected = false;
    if (!b)
        return NULL;
    uint64_t size = 0;
    uint8_t d[LLVM_BLAKE3_OUT_LEN];
    bool ok = n >= CACHE_HEADER && memcmp(b, CACHE_MAGIC, 8) == 0 && memcmp(b + 8, key, 64) == 0;
    if (ok) {
        memcpy(&size, b + 72, 8);
        ok = size == n - CACHE_HEADER;
    }
    if (ok) {
        digest(b + CACHE_HEADER, (size_t)size, d);
        ok = memcmp(d, b + 80, LLVM_BLAKE3_OUT_LEN) == 0;
    }
    LLVMMemoryBufferRef mb = ok ? LLVMCreateMemoryBufferWithMemoryRangeCopy(
                                      (const char *)b + CACHE_HEADER, (size_t)size, "eic_cached.o")
                                : NULL;
    *rejected = !ok;
    free(b);
    return mb;
}

/* Writes the object under `path` atomically: a unique temporary file in the
 * same directory, then rename(2). Failure only costs the cache entry. */
static int cache_store(const char *path, const char *key, LLVMMemoryBufferRef obj)
{
    const char *p = LLVMGetBufferStart(obj);
    uint64_t size = LLVMGetBufferSize(obj);
    uint8_t hdr[CACHE_HEADER];
    memcpy(hdr, CACHE_MAGIC, 8);
    memcpy(hdr + 8, key, 64);
    memcpy(hdr + 72, &size, 8);
    digest(p, (size_t)size, hdr + 80);
    static unsigned seq;
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), seq++);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    bool ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr && fwrite(p, 1, (size_t)size, f) == size;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* ---- adding modules ----------------------------------------------------------- */

/* Optimises `m` and emits its object; NULL with err on failure. */
static LLVMMemoryBufferRef compile(Jit *j, LLVMModuleRef m, char *err, size_t errlen)
{
    double t0 = now_ms();
    int rc = cg_optimize(m, &j->target, err, errlen);
    double t1 = now_ms();
    j->stats.optimize_ms = t1 - t0;
    if (rc != 0)
        return NULL;
    LLVMMemoryBufferRef obj = cg_emit_object_buffer(m, &j->target, err, errlen);
    j->stats.codegen_ms = now_ms() - t1;
    return obj;
}

/* The object of `m` from the cache or freshly compiled (then stored). */
static LLVMMemoryBufferRef find_or_compile(Jit *j, LLVMModuleRef m, char *err, size_t errlen)
{
    char key[65], path[1200] = "";
    double t0 = now_ms();
    jit_cache_key(m, &j->target, key);
    memcpy(j->stats.last_key, key, sizeof key);
    double t1 = now_ms();
    j->stats.key_ms = t1 - t0;
    LLVMMemoryBufferRef obj = NULL;
    bool rejected = false;
    if (j->cache_dir[0]) {
        snprintf(path, sizeof path, "%s/%s.o", j->cache_dir, key);
        obj = cache_load(path, key, &rejected);
        j->stats.cache_rejects += rejected;
        j->stats.cache_hits += obj != NULL;
    }
    j->stats.cache_ms = now_ms() - t1;
    if (obj)
        return obj;
    j->stats.cache_misses++;
    obj = compile(j, m, err, errlen);
    double t2 = now_ms();
    if (obj && path[0] && make_dirs(j->cache_dir) == 0 && cache_store(path, key, obj) == 0)
        j->stats.cache_writes++;
    j->stats.cache_ms += now_ms() - t2;
    return obj;
}

int jit_add_module(Jit *j, LLVMModuleRef m, char *err, size_t errlen)
{
    double t0 = now_ms();
    j->stats.optimize_ms = j->stats.codegen_ms = 0;
    LLVMMemoryBufferRef obj = find_or_compile(j, m, err, errlen);
    LLVMDisposeModule(m);
    if (!obj)
        return -1;
    double t1 = now_ms();
    LLVMErrorRef e = LLVMOrcLLJITAddObjectFile(j->lljit, j->jd, obj);   /* takes obj */
    if (e)
        return orc_fail(e, "cannot load the generated object", err, errlen);
    double t2 = now_ms();
    j->stats.link_ms = t2 - t1;
    j->stats.last_add_ms = t2 - t0;
    return 0;
}

void *jit_lookup(Jit *j, const char *name)
{
    LLVMOrcExecutorAddress a = 0;
    double t0 = now_ms();
    LLVMErrorRef e = LLVMOrcLLJITLookup(j->lljit, &a, name);   /* the first one links */
    j->stats.link_ms += now_ms() - t0;
    if (e) {
        LLVMConsumeError(e);
        return NULL;
    }
    return (void *)(uintptr_t)a;
}
