/*
 * gradus/entry.h — how a library introduces itself: the entry symbol,
 * negotiation, and the descriptors of the strategies it provides.
 *
 * A plugin library exports exactly one symbol per ABI major it speaks:
 *     GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *,
 *                                                   gradus_entry_response *);
 * Negotiation:
 *  1. The host fills a request with its major (1), its newest minor and its
 *     services table, and a response whose struct_size is the host's size.
 *  2. The plugin checks request->abi_major == 1 and request->struct_size, picks
 *     the minor it will speak (min(its own, the host's)), writes it to
 *     response->abi_minor and points response->library at its descriptor; or it
 *     returns GRADUS_ERR_REFUSED / GRADUS_ERR_VERSION and writes nothing else.
 *  3. The host rejects an answer with a minor above its own, and validates every
 *     descriptor completely before using any of them.
 * The entry function must have no side effects (no allocation that outlives the
 * call, no threads, no I/O); it may be called more than once. Discovery thread.
 */
#ifndef GRADUS_ENTRY_H
#define GRADUS_ENTRY_H

#include "host.h"

#define GRADUS_KIND_OPTIMIZER  1
#define GRADUS_KIND_NORMALIZER 2
#define GRADUS_KIND_PRUNER     3
#define GRADUS_KIND_FUNCTION   4

/* Capability flags: what a strategy needs from the host (docs/ABI.md). */
#define GRADUS_CAP_NEEDS_LOSS              (1ull << 0)
#define GRADUS_CAP_NEEDS_CLOSURE           (1ull << 1)
#define GRADUS_CAP_NEEDS_SAMPLING_CONTEXT  (1ull << 2)
#define GRADUS_CAP_NEEDS_HVP               (1ull << 3)
#define GRADUS_CAP_NEEDS_JVP               (1ull << 4)
#define GRADUS_CAP_NEEDS_PER_SAMPLE        (1ull << 5)
#define GRADUS_CAP_NEEDS_FULL_GRAD         (1ull << 6)
#define GRADUS_CAP_NEEDS_BATCH_CONTROL     (1ull << 7)
#define GRADUS_CAP_NEEDS_TASK_EVENTS       (1ull << 8)
#define GRADUS_CAP_NEEDS_SHAPES            (1ull << 9)
#define GRADUS_CAP_NEEDS_ROLES             (1ull << 10)
#define GRADUS_CAP_MATRIX_ONLY             (1ull << 11)
#define GRADUS_CAP_NEEDS_GLOBAL_VIEW       (1ull << 12)
#define GRADUS_CAP_NEEDS_ACTIVATIONS       (1ull << 13)
#define GRADUS_CAP_NEEDS_LINALG            (1ull << 14)
#define GRADUS_CAP_NEEDS_RNG               (1ull << 15)
#define GRADUS_CAP_NEEDS_SNAPSHOT          (1ull << 16)
#define GRADUS_CAP_NEEDS_POST_STEP         (1ull << 17)
#define GRADUS_CAP_NEEDS_CUSTOM_VJP        (1ull << 18)
#define GRADUS_CAP_NEEDS_DENSE_MASKED_GRAD (1ull << 19)
#define GRADUS_CAP_NEEDS_OPT_STATE_ACCESS  (1ull << 20)
#define GRADUS_CAP_DECOUPLED_WEIGHT_DECAY  (1ull << 21) /* moves parameters even with a zero gradient */
#define GRADUS_CAP_EVAL_POINT              (1ull << 22) /* ABI 1.2: evaluate at another point than the one
                                                           trained (schedule-free's x): see eval_point */
/* Bits 23..63 are reserved; the host refuses a strategy that sets a bit it does not know. */
#define GRADUS_CAP_KNOWN_MASK              0x7FFFFFull

/*
 * One strategy. Static data owned by the library, valid while it is loaded.
 * vtable points to the kind's vtable (gradus_optimizer_vtable, ...).
 */
typedef struct gradus_strategy_descriptor {
    uint32_t struct_size;
    uint32_t abi_minor;
    int32_t kind;                       /* GRADUS_KIND_* */
    uint32_t reserved;
    const char *id;                     /* stable "vendor.name", [a-z0-9_.-], e.g. "gradus.adam" */
    const char *display_name;
    const char *version;                /* the strategy's own version, "MAJOR.MINOR.PATCH" */
    const char *summary;                /* one line */
    const char *reference;              /* paper or reference implementation; may be NULL */
    uint64_t capabilities;              /* GRADUS_CAP_* */
    const gradus_hyperparameter *hyperparameters; /* hyperparameter_count entries, GRADUS_ARRAY_AT */
    uint32_t hyperparameter_count;
    uint32_t reserved2;
    const void *vtable;                 /* kind-specific, starts with struct_size/abi_minor */
} gradus_strategy_descriptor;

/* Everything one library provides. Static data owned by the library. */
typedef struct gradus_library_descriptor {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;                   /* e.g. "gradus-builtin-adam" */
    const char *vendor;                 /* may be NULL */
    const gradus_strategy_descriptor *const *strategies;  /* strategy_count pointers */
    uint32_t strategy_count;
    uint32_t reserved;
} gradus_library_descriptor;

/* What the host offers. Written by the host, borrowed for the call. */
typedef struct gradus_entry_request {
    uint32_t struct_size;
    uint32_t abi_minor;                 /* the newest minor the host speaks */
    uint32_t abi_major;                 /* always 1 for gradus_plugin_entry_v1 */
    uint32_t reserved;
    const char *host_name;              /* "gradus" */
    const char *host_version;           /* e.g. "0.1.0" */
    const gradus_host_services *services; /* valid while the library is loaded */
} gradus_entry_request;

/* The plugin's answer. struct_size is set by the host to the size it allocated. */
typedef struct gradus_entry_response {
    uint32_t struct_size;
    uint32_t abi_minor;                 /* written by the plugin: the minor it speaks */
    const gradus_library_descriptor *library;  /* written by the plugin */
} gradus_entry_response;

/* The type of gradus_plugin_entry_v1. */
typedef int32_t (*gradus_entry_v1_fn)(const gradus_entry_request *request, gradus_entry_response *response);

#define GRADUS_ENTRY_V1_SYMBOL "gradus_plugin_entry_v1"

/* The minor a plugin built with this header should answer: min(host's, its own). */
static inline uint32_t gradus_negotiated_minor(const gradus_entry_request *request) {
    return request->abi_minor <= (uint32_t)GRADUS_ABI_MINOR ? request->abi_minor : (uint32_t)GRADUS_ABI_MINOR;
}

#endif /* GRADUS_ENTRY_H */
