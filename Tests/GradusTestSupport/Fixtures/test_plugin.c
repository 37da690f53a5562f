/*
 * A small C plugin for the host's tests. Built by the tests with `cc`, once as a
 * valid library and once per -DBREAK_<REASON> to produce one deliberately broken
 * plugin per rejection reason. It also exports functions of every libffi type.
 */
#include <gradus/gradus.h>
#include <string.h>

/* ---- a trivial optimizer: x <- x - lr * g ---- */
static int32_t opt_create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h,
                          const gradus_hp_values *hp, void **out) {
    (void)s; (void)h; (void)hp;
    static int token;
    *out = &token;
    return GRADUS_OK;
}
static void opt_destroy(void *instance) { (void)instance; }
static int32_t opt_layout(void *instance, const gradus_state_slot **slots, uint32_t *count) {
    (void)instance; *slots = NULL; *count = 0; return GRADUS_OK;
}
static int32_t opt_step(void *instance, const gradus_step_context *ctx, const gradus_param_group *group) {
    (void)instance;
    double lr = ctx->hyperparameters->values[0].f64;
    for (uint32_t i = 0; i < group->count; i++) {
        const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, group->params, i);
        for (int64_t k = 0; k < p->value->count; k++) p->value->data[k] -= (float)lr * p->grad->data[k];
    }
    return GRADUS_OK;
}

static const gradus_optimizer_vtable opt_vtable = {
    sizeof(gradus_optimizer_vtable), GRADUS_ABI_MINOR, opt_create, opt_destroy, opt_layout,
#ifdef BREAK_NULL_SLOT
    NULL,
#else
    opt_step,
#endif
    NULL, NULL, NULL, NULL,
};

static const gradus_hyperparameter opt_params[] = {
    { sizeof(gradus_hyperparameter), GRADUS_ABI_MINOR, "lr", "learning rate", "step size", GRADUS_HP_F64,
      GRADUS_HP_SCHEDULABLE,
#ifdef BREAK_SCHEMA
      5.0,
#else
      0.1,
#endif
      0.0, 1.0, 0, 0, 0, NULL, NULL, 0, 0 },
};

#ifdef BREAK_UNKNOWN_CAPABILITY
#define TEST_CAPS (1ull << 40)
#else
#define TEST_CAPS 0
#endif

#ifdef BREAK_BAD_ID
#define TEST_ID "NoVendorHere"
#elif defined(TEST_ID_OVERRIDE)
#define TEST_ID TEST_ID_OVERRIDE
#else
#define TEST_ID "test.plain"
#endif

static const gradus_strategy_descriptor optimizer = {
    sizeof(gradus_strategy_descriptor), GRADUS_ABI_MINOR, GRADUS_KIND_OPTIMIZER, 0,
    TEST_ID, "Plain GD", "1.2.3", "x <- x - lr * g", NULL, TEST_CAPS, opt_params, 1, 0, &opt_vtable,
};

/* ---- functions of every type ---- */
static uint8_t f_not(uint8_t b) { return (uint8_t)!b; }
static int32_t f_i32(int32_t a, int32_t b) { return a - b; }
static uint32_t f_u32(uint32_t a) { return a * 2u; }
static int64_t f_i64(int64_t a, int64_t b) { return a * b; }
static uint64_t f_u64(uint64_t a) { return a + 1u; }
static float f_f32(float a, float b) { return a / b; }
static double f_f64(double a, int64_t n, float c, uint8_t flag) { return flag ? a * (double)n + (double)c : -1.0; }
static const char *f_str(const char *s) { return strcmp(s, "ping") == 0 ? "pong" : "other"; }
static int last_void_arg;
static void f_void(int32_t x) { last_void_arg = x; }
static int32_t f_read_void(void) { return last_void_arg; }

#define FUNCTION(var, id, sig, fn) \
    static const gradus_function_vtable var##_vt = { sizeof(gradus_function_vtable), GRADUS_ABI_MINOR, sig, (gradus_generic_fn)fn, 0, 0 }; \
    static const gradus_strategy_descriptor var = { sizeof(gradus_strategy_descriptor), GRADUS_ABI_MINOR, \
        GRADUS_KIND_FUNCTION, 0, id, id, "1.0.0", "test function", NULL, 0, NULL, 0, 0, &var##_vt };

FUNCTION(fn_not, "test.not", "bool not(bool b)", f_not)
FUNCTION(fn_i32, "test.sub_i32", "i32 sub(i32 a, i32 b)", f_i32)
FUNCTION(fn_u32, "test.twice_u32", "u32 twice(u32 a)", f_u32)
FUNCTION(fn_i64, "test.mul_i64", "i64 mul(i64 a, i64 b)", f_i64)
FUNCTION(fn_u64, "test.inc_u64", "u64 inc(u64 a)", f_u64)
FUNCTION(fn_f32, "test.div_f32", "f32 div(f32 a, f32 b)", f_f32)
FUNCTION(fn_f64, "test.mixed_f64", "f64 mixed(f64 a, i64 n, f32 c, bool flag)", f_f64)
FUNCTION(fn_str, "test.echo_str", "str echo(str s)", f_str)
FUNCTION(fn_void, "test.store_void", "void store(i32 x)", f_void)
#ifdef BREAK_SIGNATURE
FUNCTION(fn_read, "test.read_void", "i32 read(matrix m)", f_read_void)
#else
FUNCTION(fn_read, "test.read_void", "i32 read()", f_read_void)
#endif

static const gradus_strategy_descriptor *const strategies[] = {
    &optimizer, &fn_not, &fn_i32, &fn_u32, &fn_i64, &fn_u64, &fn_f32, &fn_f64, &fn_str, &fn_void, &fn_read,
#ifdef BREAK_DUPLICATE_ID
    &optimizer,
#endif
};

/* A descriptor from a "newer" header: the same fields plus 64 bytes this host does not know. */
typedef struct { gradus_library_descriptor base; uint8_t future[64]; } long_library;

static const long_library library = {
    {
#if defined(BREAK_SHORT_STRUCT)
        8,
#elif defined(LONG_STRUCT)
        sizeof(long_library),
#else
        sizeof(gradus_library_descriptor),
#endif
        GRADUS_ABI_MINOR, "test-plugin", "tests", strategies, sizeof(strategies) / sizeof(strategies[0]), 0 },
    {0},
};

#ifdef BREAK_OTHER_MAJOR
GRADUS_EXPORT int32_t gradus_plugin_entry_v2(const gradus_entry_request *request, gradus_entry_response *response);
GRADUS_EXPORT int32_t gradus_plugin_entry_v2(const gradus_entry_request *request, gradus_entry_response *response)
#else
GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response);
GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response)
#endif
{
    if (request->abi_major != 1) return GRADUS_ERR_VERSION;
#ifdef BREAK_REFUSE
    request->services->set_error(request->services->host, GRADUS_ERR_REFUSED, "this machine lacks the AVX-1024 the plugin needs");
    (void)response;
    return GRADUS_ERR_REFUSED;
#else
#ifdef BREAK_NEWER_MINOR
    response->abi_minor = 7;
#else
    response->abi_minor = gradus_negotiated_minor(request);
#endif
#ifdef BREAK_NULL_LIBRARY
    response->library = NULL;
#else
    response->library = &library.base;
#endif
    return GRADUS_OK;
#endif
}
