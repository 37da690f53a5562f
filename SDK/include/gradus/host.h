/*
 * gradus/host.h — the host services table.
 *
 * The host hands every plugin one table at negotiation time (and again in
 * every create call and step context). Plugins never link host symbols; all
 * host functionality comes through this table, so a C plugin needs only the
 * headers. The table is append-only: a plugin checks struct_size (or uses
 * GRADUS_HOST_HAS) before calling a slot added after minor 0.
 *
 * The table and the host handle are owned by the host and stay valid for as
 * long as the library is loaded (libraries are never unloaded).
 */
#ifndef GRADUS_HOST_H
#define GRADUS_HOST_H

#include "status.h"
#include "types.h"

#define GRADUS_LOG_DEBUG 0
#define GRADUS_LOG_INFO  1
#define GRADUS_LOG_WARN  2
#define GRADUS_LOG_ERROR 3

/* Activation hook points (activation service). */
#define GRADUS_ACTIVATION_INPUT       0
#define GRADUS_ACTIVATION_OUTPUT      1
#define GRADUS_ACTIVATION_OUTPUT_GRAD 2

/* True when `services` is long enough to contain slot `field`. */
#define GRADUS_HOST_HAS(services, field) \
    ((services) != NULL && (services)->struct_size >= offsetof(gradus_host_services, field) + sizeof((services)->field) \
     && (services)->field != NULL)

typedef struct gradus_host_services {
    uint32_t struct_size;
    uint32_t abi_minor;
    gradus_host_handle host;   /* pass back as the first argument of host-level services */

    /* Writes one line to the host's log. Thread-safe. Strings are borrowed and copied. */
    void (*log)(gradus_host_handle host, int32_t level, const char *plugin_id, const char *message);

    /*
     * Records why the current call is about to fail. Call it just before returning
     * a non-zero status; the host prefixes the strategy id. Thread-safe (the
     * message is kept per thread). `message` is borrowed and copied.
     */
    void (*set_error)(gradus_host_handle host, int32_t status, const char *message);

    /*
     * Allocates `size` bytes aligned to `alignment` (a power of two, at least
     * 16; 0 means 64). Returns NULL on failure. Thread-safe. The memory belongs
     * to the caller until it passes it to `free` (never the C library's free).
     */
    void *(*alloc)(gradus_host_handle host, uint64_t size, uint64_t alignment);
    /* Releases memory from `alloc`. NULL is a no-op. Thread-safe. */
    void (*free)(gradus_host_handle host, void *ptr);

    /*
     * Random numbers from a host-owned stream (the step context names the
     * plugin instance's stream). Streams are deterministic, independent per
     * instance and saved in checkpoints. Compute threading: a stream must not
     * be used from two threads at once.
     */
    uint64_t (*rng_next_u64)(gradus_rng_handle rng);
    /* Fills n floats uniform in [0, 1). */
    void (*rng_uniform)(gradus_rng_handle rng, float *out, uint64_t n);
    /* Fills n floats from N(0, 1). */
    void (*rng_normal)(gradus_rng_handle rng, float *out, uint64_t n);

    /*
     * C = alpha * op(A) * op(B) + beta * C, row-major float32, via the host's
     * BLAS. op(X) is X or its transpose (trans_x = 0 or 1). Thread-safe.
     * Returns GRADUS_ERR_INVALID_ARGUMENT on negative sizes or short leading dims.
     */
    int32_t (*gemm)(gradus_host_handle host, int32_t trans_a, int32_t trans_b,
                    int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb,
                    float beta, float *c, int64_t ldc);

    /* ---- autodiff services; all take the run handle of the current step ---- */

    /*
     * The loss of the current batch at the current parameters. Compute thread of
     * the caller's step. GRADUS_ERR_UNSUPPORTED when the run has no loss (e.g.
     * a trace driven by a hand-written gradient).
     */
    int32_t (*loss)(gradus_run_handle run, double *out_loss);

    /*
     * Hessian-vector products on the current batch: out[i] = (H v)[i] for the
     * parameters of the group being stepped, in group order. vectors[i] and
     * out[i] have the shape of parameter i; both borrowed.
     */
    int32_t (*hessian_vector_product)(gradus_run_handle run, const float *const *vectors,
                                      float *const *out, uint32_t count);

    /*
     * Re-evaluates the loss (and, when out_grads is not NULL, the gradient) on the
     * current batch with the group's parameters replaced by `params` (borrowed,
     * group order). The real parameters are left untouched.
     */
    int32_t (*evaluate_at)(gradus_run_handle run, const float *const *params, uint32_t count,
                           double *out_loss, float *const *out_grads);

    /*
     * The activation of module `module` (a top-level layer, "layers.0", "layers.1",
     * ...) recorded by a forward hook for the current batch; `which` is
     * GRADUS_ACTIVATION_* (the layer's input, its output, or the loss gradient at
     * its output). Recorded only for strategies declaring
     * GRADUS_CAP_NEEDS_ACTIVATIONS. The view is read-only, borrowed, and valid
     * until the call that received the run handle returns. An unknown module is
     * GRADUS_ERR_INVALID_ARGUMENT with a message listing the recorded ones.
     */
    int32_t (*activation)(gradus_run_handle run, const char *module, int32_t which,
                          gradus_tensor_view *out);

    /*
     * Adds a differentiable operation to a graph under construction (normalizer
     * graph form); valid only during build_graph, on the graph it received.
     * `inputs` are nodes of that graph (borrowed), `attrs` op attributes as
     * hyperparameter values matched by id (may be NULL), *out the new node.
     * The op catalogue (all broadcasting like NumPy):
     *   add sub mul div                    2 inputs
     *   neg sqrt rsqrt exp log tanh sigmoid relu square   1 input
     *   add_scalar mul_scalar              1 input; attr "value" (F64)
     *   sum mean                           1 input; attr "axes" (STRING, e.g. "0,2,3"
     *                                      or "-1"; negative counts from the end);
     *                                      reduced axes are kept with size 1; mean
     *                                      takes attr "correction" (F64, default 0):
     *                                      divide by n - correction (1: unbiased variance)
     *   reshape                            1 input; attr "shape" (STRING, e.g. "1,16,1,1")
     *   assign                             inputs (buffer, value): copies value into the
     *                                      buffer (running statistics); not differentiated;
     *                                      skipped when the host re-evaluates a batch
     * Gradients of every order come from the host's core. Returns
     * GRADUS_ERR_INVALID_ARGUMENT (with a message) for an unknown op, a wrong
     * input count, shapes that do not broadcast or a missing attribute.
     */
    int32_t (*graph_op)(gradus_graph_handle graph, const char *op, const gradus_node *inputs,
                        uint32_t input_count, const gradus_hp_values *attrs, gradus_node *out);

    /* ---- ABI 1.2: dense linear algebra (present when struct_size reaches it) ----
     * Row-major float32 matrices; the host computes in double precision with LAPACK and
     * rounds once, so results are deterministic and independent of the plugin's build.
     * Where a factorization leaves a sign free, the host fixes it: every singular vector and
     * eigenvector has its largest-magnitude entry positive (the first on ties) and R has a
     * non-negative diagonal. Inputs are borrowed and never modified; outputs are caller-owned
     * buffers of the sizes given. Sizes must be positive with at most 2^28 elements per
     * matrix (else GRADUS_ERR_INVALID_ARGUMENT); a failure to converge or a matrix that is
     * not positive definite (Cholesky) or singular (triangular solve) is GRADUS_ERR_NUMERIC,
     * with a message. Thread-safe. */

    /* Thin SVD a = u·diag(s)·vt of the m×n matrix a, k = min(m, n): u m×k, s k (descending), vt k×n. */
    int32_t (*svd)(gradus_host_handle host, int64_t m, int64_t n, const float *a, float *u, float *s, float *vt);
    /* Symmetric eigendecomposition of the n×n matrix a (its lower triangle is read): w n
     * eigenvalues ascending, v n×n with the eigenvectors as columns. */
    int32_t (*sym_eig)(gradus_host_handle host, int64_t n, const float *a, float *w, float *v);
    /* Thin QR a = q·r of the m×n matrix a, m >= n: q m×n with orthonormal columns, r n×n upper triangular. */
    int32_t (*qr)(gradus_host_handle host, int64_t m, int64_t n, const float *a, float *q, float *r);
    /* Cholesky a = l·lᵀ of the symmetric positive definite n×n matrix a (lower triangle read): l n×n lower. */
    int32_t (*cholesky)(gradus_host_handle host, int64_t n, const float *a, float *l);
    /* Solves op(t)·x = b for the n×n triangular t (lower != 0: lower, else upper; transpose != 0:
     * op(t) = tᵀ); b is n×nrhs and is overwritten with x. */
    int32_t (*triangular_solve)(gradus_host_handle host, int32_t lower, int32_t transpose, int64_t n, int64_t nrhs,
                                const float *t, float *b);
} gradus_host_services;

#endif /* GRADUS_HOST_H */
