/*
 * Optional native float32 GEMM for tiny-compression-kit: a small N-API addon over OpenBLAS (Debian's
 * libopenblas-dev). Built by scripts/build-native.mjs into native/build/blas.node; loaded (or silently not) by
 * src/engine/native-blas.ts. Plain C, N-API version 8, no node-addon-api, no node-gyp.
 *
 * Exports:
 *   sgemm(buffer, transA, transB, M, N, K, aOff, lda, bOff, ldb, beta, cOff, ldc) -> undefined
 *       C = op(A) op(B) + beta C, row-major (cblas_sgemm, CblasRowMajor, alpha 1). `buffer` is an ArrayBuffer
 *       (a WebAssembly.Memory's `memory.buffer`); aOff/bOff/cOff are BYTE offsets into it (multiples of 4).
 *       op(A) is M x K (A stored [M, K] with row stride lda, or [K, M] when transA), op(B) is K x N (B stored
 *       [K, N] with row stride ldb, or [N, K] when transB), C is [M, N] with row stride ldc. Every operand's
 *       range is checked against the buffer, and C must not overlap A or B; a JS error names the operand.
 *   threads() -> number            openblas_get_num_threads()
 *   setThreads(n) -> number        openblas_set_num_threads(n); returns the new count
 *   config() -> string             openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell
 *                                  MAX_THREADS=64"
 *   setParts(n) -> number          products of at least SPLIT_MIN_MACS multiply-adds are cut into n blocks of C,
 *                                  computed on threads of their own (split_sgemm below); 1 turns the cut off
 *
 * The call is synchronous on the calling JS thread (the parts' threads are joined before it returns), so the
 * ArrayBuffer cannot be detached or grown while it runs.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Declared here rather than taken from <cblas.h>: on Debian that header is an alternative that may point to
 * another BLAS's cblas.h without the openblas_* functions. The enum values are the CBLAS standard's. */
enum { TCK_CblasRowMajor = 101, TCK_CblasNoTrans = 111, TCK_CblasTrans = 112 };
extern void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc);
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                                                        \
  do {                                                                                                      \
    if ((call) != napi_ok) {                                                                                \
      throw_pending_or(env, "blas: N-API call failed: " #call);                                             \
      return NULL;                                                                                          \
    }                                                                                                       \
  } while (0)

static void throw_pending_or(napi_env env, const char *msg) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  napi_throw_error(env, NULL, msg);
}

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* An integer argument in [lo, hi]; writes an error naming `name` and returns 0 when it is not one. */
static int get_int(napi_env env, napi_value v, const char *name, int64_t lo, int64_t hi, int64_t *out) {
  char msg[160];
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      d != d || d < (double)lo || d > (double)hi || d != (double)(int64_t)d) {
    snprintf(msg, sizeof msg, "%s must be an integer in [%lld, %lld]", name, (long long)lo, (long long)hi);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

static int get_bool(napi_env env, napi_value v, bool *out) {
  napi_value b;
  return napi_coerce_to_bool(env, v, &b) == napi_ok && napi_get_value_bool(env, b, out) == napi_ok;
}

/* Floats spanned by a row-major [rows, cols] matrix with row stride ld: (rows-1)*ld + cols, 0 when empty. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

/* Checks that [off, off + 4*n) lies inside a buffer of `len` bytes and that off is float-aligned. */
static int check_range(napi_env env, const char *name, int64_t off, int64_t n, size_t len) {
  char msg[240];
  if (off % 4 != 0) {
    snprintf(msg, sizeof msg, "sgemm: %s offset %lld is not a multiple of 4 bytes", name, (long long)off);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  if (n > 0 && (off > (int64_t)len || 4 * n > (int64_t)len - off)) {
    snprintf(msg, sizeof msg,
             "sgemm: operand %s (bytes %lld..%lld) lies outside the buffer (%llu bytes)", name, (long long)off,
             (long long)(off + 4 * n), (unsigned long long)len);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int overlaps(int64_t o1, int64_t n1, int64_t o2, int64_t n2) {
  return n1 > 0 && n2 > 0 && o1 < o2 + 4 * n2 && o2 < o1 + 4 * n1;
}

/*
 * Deterministic parallelism: a large product is cut into g_parts blocks of C's rows (or columns, when C has
 * more columns than rows), each a separate single-threaded sgemm, the first on the calling thread and the others
 * on threads started for the call. The cut depends on the shape and g_parts only (not on the machine's cores or
 * on timing), and OpenBLAS blocks each part by its own shape, so the bits depend on the shape and g_parts and on
 * nothing else (tested: the same bits on every call; any number of parts agrees with one call within float32
 * rounding, not bit for bit). g_parts = 1: one plain call.
 */
typedef struct {
  bool ta, tb;
  int M, N, K;
  const float *A;
  int lda;
  const float *B;
  int ldb;
  float beta;
  float *C;
  int ldc;
} Gemm;

/* Below this many multiply-adds the cut does not pay for its thread (measured on LeNet-5's 5000x150x16
 * products: 280-310 us in one call, 234-495 us in two parts). */
#define SPLIT_MIN_MACS (1 << 24)
#define MAX_PARTS 16
static int g_parts = 2;

static void run_gemm(const Gemm *g) {
  cblas_sgemm(TCK_CblasRowMajor, g->ta ? TCK_CblasTrans : TCK_CblasNoTrans, g->tb ? TCK_CblasTrans : TCK_CblasNoTrans,
              g->M, g->N, g->K, 1.0f, g->A, g->lda, g->B, g->ldb, g->beta, g->C, g->ldc);
}

static void *run_gemm_thread(void *arg) {
  run_gemm((const Gemm *)arg);
  return NULL;
}

static void split_sgemm(const Gemm *g, int parts) {
  bool byRows = g->M >= g->N;
  int extent = byRows ? g->M : g->N;
  /* Block boundaries at multiples of 16 rows/columns (OpenBLAS's register blocks), as equal as that allows. */
  int unit = (extent + 15) / 16;
  if (parts > unit) parts = unit;
  if (parts < 2) {
    run_gemm(g);
    return;
  }
  Gemm sub[MAX_PARTS];
  pthread_t tid[MAX_PARTS];
  bool started[MAX_PARTS] = {false};
  for (int p = 0; p < parts; p++) {
    int lo = 16 * (int)(((int64_t)unit * p) / parts), hi = p + 1 == parts ? extent : 16 * (int)(((int64_t)unit * (p + 1)) / parts);
    Gemm s = *g;
    if (byRows) {
      s.M = hi - lo;
      s.A = g->ta ? g->A + lo : g->A + (int64_t)lo * g->lda;
      s.C = g->C + (int64_t)lo * g->ldc;
    } else {
      s.N = hi - lo;
      s.B = g->tb ? g->B + (int64_t)lo * g->ldb : g->B + lo;
      s.C = g->C + lo;
    }
    sub[p] = s;
  }
  for (int p = 1; p < parts; p++) started[p] = pthread_create(&tid[p], NULL, run_gemm_thread, &sub[p]) == 0;
  run_gemm(&sub[0]);
  for (int p = 1; p < parts; p++) {
    if (started[p]) pthread_join(tid[p], NULL);
    else run_gemm(&sub[p]); /* no thread: the same block on this one */
  }
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13)
    return throw_msg(env, "sgemm(buffer, transA, transB, M, N, K, aOff, lda, bOff, ldb, beta, cOff, ldc): 13 "
                          "arguments expected");

  bool is_ab = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) return throw_msg(env, "sgemm: buffer must be an ArrayBuffer (a WebAssembly.Memory's buffer)");
  void *data = NULL;
  size_t len = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));

  bool ta, tb;
  if (!get_bool(env, argv[1], &ta) || !get_bool(env, argv[2], &tb)) {
    throw_pending_or(env, "sgemm: transA/transB must be booleans");
    return NULL;
  }
  const int64_t IMAX = INT32_MAX, OMAX = (int64_t)1 << 52;
  int64_t M, N, K, aOff, lda, bOff, ldb, cOff, ldc;
  if (!get_int(env, argv[3], "sgemm: M", 0, IMAX, &M) || !get_int(env, argv[4], "sgemm: N", 0, IMAX, &N) ||
      !get_int(env, argv[5], "sgemm: K", 0, IMAX, &K) || !get_int(env, argv[6], "sgemm: aOff", 0, OMAX, &aOff) ||
      !get_int(env, argv[7], "sgemm: lda", 1, IMAX, &lda) || !get_int(env, argv[8], "sgemm: bOff", 0, OMAX, &bOff) ||
      !get_int(env, argv[9], "sgemm: ldb", 1, IMAX, &ldb) || !get_int(env, argv[11], "sgemm: cOff", 0, OMAX, &cOff) ||
      !get_int(env, argv[12], "sgemm: ldc", 1, IMAX, &ldc))
    return NULL;
  double beta;
  napi_valuetype bt;
  CHECK(napi_typeof(env, argv[10], &bt));
  if (bt != napi_number) return throw_msg(env, "sgemm: beta must be a number");
  CHECK(napi_get_value_double(env, argv[10], &beta));

  /* Stored shapes (rows x cols) of A and B; the leading dimension is the row stride, at least cols. */
  int64_t aRows = ta ? K : M, aCols = ta ? M : K;
  int64_t bRows = tb ? N : K, bCols = tb ? K : N;
  char msg[200];
  if (lda < aCols) {
    snprintf(msg, sizeof msg, "sgemm: lda %lld < %lld (columns of A as stored)", (long long)lda, (long long)aCols);
    return throw_range(env, msg);
  }
  if (ldb < bCols) {
    snprintf(msg, sizeof msg, "sgemm: ldb %lld < %lld (columns of B as stored)", (long long)ldb, (long long)bCols);
    return throw_range(env, msg);
  }
  if (ldc < N) {
    snprintf(msg, sizeof msg, "sgemm: ldc %lld < N = %lld", (long long)ldc, (long long)N);
    return throw_range(env, msg);
  }
  /* C = beta C only when K = 0 or M/N = 0: A and B are then not read. */
  int64_t nA = M == 0 || N == 0 ? 0 : span(aRows, aCols, lda);
  int64_t nB = M == 0 || N == 0 ? 0 : span(bRows, bCols, ldb);
  int64_t nC = span(M, N, ldc);
  if (!check_range(env, "A", aOff, nA, len) || !check_range(env, "B", bOff, nB, len) ||
      !check_range(env, "C", cOff, nC, len))
    return NULL;
  if (overlaps(cOff, nC, aOff, nA)) return throw_range(env, "sgemm: operand C overlaps A");
  if (overlaps(cOff, nC, bOff, nB)) return throw_range(env, "sgemm: operand C overlaps B");
  if (nC == 0) return NULL;

  char *base = (char *)data;
  /* With K = 0 OpenBLAS only scales C; A/B pointers are then unused but must be valid-looking. */
  Gemm g = {ta, tb, (int)M, (int)N, (int)K, (const float *)(base + aOff), (int)lda, (const float *)(base + bOff),
            (int)ldb, (float)beta, (float *)(base + cOff), (int)ldc};
  if (g_parts > 1 && (double)M * N * K >= SPLIT_MIN_MACS) split_sgemm(&g, g_parts);
  else run_gemm(&g);
  return NULL;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc < 1 || !get_int(env, argv[0], "setThreads(n): n", 1, 4096, &n)) {
    throw_pending_or(env, "setThreads(n): n must be a positive integer");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value SetParts(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc < 1 || !get_int(env, argv[0], "setParts(n): n", 1, MAX_PARTS, &n)) {
    throw_pending_or(env, "setParts(n): n must be an integer from 1 to 16");
    return NULL;
  }
  g_parts = (int)n;
  napi_value out;
  CHECK(napi_create_int32(env, g_parts, &out));
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  (void)info;
  const char *c = openblas_get_config();
  napi_value out;
  CHECK(napi_create_string_utf8(env, c ? c : "OpenBLAS (unknown config)", NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, Threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setParts", NULL, SetParts, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
