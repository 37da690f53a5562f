/*
 * gradus/types.h — the building blocks shared by every other header.
 *
 * Layout rules for every struct in this ABI (major 1):
 *  - it starts with `uint32_t struct_size; uint32_t abi_minor;`, filled by the
 *    writer with sizeof(the struct it was compiled with) and its minor;
 *  - it grows only at the end; a reader never reads past struct_size and treats
 *    fields beyond it as zero / NULL;
 *  - no bit-fields, enums, bool, long or packing: fixed-width integers only;
 *  - a NULL function pointer means "not implemented";
 *  - an array of ABI structs is walked with a stride equal to the struct_size
 *    of its first element (all elements of one array share one struct_size);
 *    use GRADUS_ARRAY_AT.
 */
#ifndef GRADUS_TYPES_H
#define GRADUS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define GRADUS_EXTERN_C extern "C"
#else
#define GRADUS_EXTERN_C
#endif

/* Marks the one symbol a plugin library exports. */
#if defined(_WIN32)
#define GRADUS_EXPORT GRADUS_EXTERN_C __declspec(dllexport)
#else
#define GRADUS_EXPORT GRADUS_EXTERN_C __attribute__((visibility("default")))
#endif

/* The ABI major this header describes and the newest minor it knows. */
#define GRADUS_ABI_MAJOR 1
#define GRADUS_ABI_MINOR 1   /* 1.1: exact (double) scalar state slots; see docs/ABI.md */

/* Element i of an array of ABI structs whose first element starts at `base`. */
#define GRADUS_ARRAY_AT(type, base, i) \
    ((type *)(void *)((char *)(void *)(base) + (size_t)(i) * (size_t)((base)->struct_size)))

/* ---- opaque handles (owned by the host; plugins only pass them back) ---- */
typedef struct gradus_host_s  *gradus_host_handle;  /* the host itself */
typedef struct gradus_run_s   *gradus_run_handle;   /* the current batch / step, valid during one call */
typedef struct gradus_rng_s   *gradus_rng_handle;   /* one independent, checkpointed random stream */
typedef struct gradus_graph_s *gradus_graph_handle; /* a graph under construction (normalizer graph form) */
typedef int64_t gradus_node;                        /* a value in a graph; negative = invalid */

/* Defined in entry.h; create functions receive the descriptor they were found in,
   so one C function can serve several strategies. */
struct gradus_strategy_descriptor;

/* ---- tensor views ---- */
#define GRADUS_TENSOR_READ_ONLY  1u  /* the callee must not write through data */
#define GRADUS_TENSOR_CONTIGUOUS 2u  /* row-major and dense: strides may be ignored */

#define GRADUS_MAX_DIMS 8

/*
 * A borrowed view of float32 data. Valid only for the duration of the call it
 * was passed to; the callee never frees it and never keeps the pointers.
 * strides are in elements, not bytes. A scalar has ndim = 0 and one element.
 */
typedef struct gradus_tensor_view {
    uint32_t struct_size;
    uint32_t abi_minor;
    float *data;
    const int64_t *shape;    /* ndim entries (NULL when ndim = 0) */
    const int64_t *strides;  /* ndim entries (NULL when ndim = 0) */
    int64_t count;           /* product of shape: the number of elements */
    int32_t ndim;
    uint32_t flags;          /* GRADUS_TENSOR_* */
} gradus_tensor_view;

/* ---- hyperparameters ---- */
#define GRADUS_HP_F64    1  /* double; range [min_f64, max_f64] */
#define GRADUS_HP_I64    2  /* int64; range [min_i64, max_i64] */
#define GRADUS_HP_BOOL   3  /* stored in i64 as 0 or 1 */
#define GRADUS_HP_ENUM   4  /* one of enum_values; stored as its index in i64 and its text in str */
#define GRADUS_HP_STRING 5  /* free text in str */

#define GRADUS_HP_LOG_SCALE     1u  /* search / sweep on a log scale */
#define GRADUS_HP_SCHEDULABLE   2u  /* may follow a schedule; read it from the step context each step */
#define GRADUS_HP_PER_GROUP     4u  /* may differ between parameter groups */
#define GRADUS_HP_MIN_EXCLUSIVE 8u  /* the value must be > min, not >= min */
#define GRADUS_HP_MAX_EXCLUSIVE 16u /* the value must be < max, not <= max */

/*
 * One entry of a strategy's hyperparameter schema. Written by the plugin as
 * static data that lives as long as the library; the host only reads it.
 * id: stable, [a-z][a-z0-9_]*, unique within the strategy (PyTorch names where
 * PyTorch has the algorithm). Unused numeric fields are ignored for the type.
 */
typedef struct gradus_hyperparameter {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *id;
    const char *name;              /* display name */
    const char *doc;               /* one line */
    int32_t type;                  /* GRADUS_HP_* */
    uint32_t flags;                /* GRADUS_HP_* flags */
    double default_f64, min_f64, max_f64;
    int64_t default_i64, min_i64, max_i64;  /* also the default index for ENUM, 0/1 for BOOL */
    const char *default_str;       /* STRING default */
    const char *const *enum_values;/* ENUM: enum_count names */
    uint32_t enum_count;
    uint32_t reserved;
} gradus_hyperparameter;

/*
 * The value of one hyperparameter, as the host passes it to a plugin.
 * Written by the host; borrowed by the plugin for the duration of the call.
 */
typedef struct gradus_hp_value {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *id;      /* the schema id */
    int32_t type;        /* GRADUS_HP_* */
    uint32_t reserved;
    double f64;
    int64_t i64;
    const char *str;     /* STRING text, ENUM name; NULL otherwise */
} gradus_hp_value;

/*
 * A complete, validated set of values: one per schema entry, in schema order,
 * each within its declared range. Plugins may therefore index by position.
 */
typedef struct gradus_hp_values {
    uint32_t struct_size;
    uint32_t abi_minor;
    const gradus_hp_value *values;
    uint32_t count;
    uint32_t reserved;
} gradus_hp_values;

/* ---- parameter roles (C2) ---- */
#define GRADUS_ROLE_UNKNOWN   0
#define GRADUS_ROLE_MATRIX    1  /* a dense or conv weight, stored (out, in, ...) */
#define GRADUS_ROLE_BIAS      2
#define GRADUS_ROLE_NORM_GAIN 3
#define GRADUS_ROLE_NORM_BIAS 4
#define GRADUS_ROLE_EMBEDDING 5
#define GRADUS_ROLE_HEAD      6  /* the output layer's weight */
#define GRADUS_ROLE_VECTOR    7  /* any other 1-D or scalar parameter (e.g. a test-function point) */

#endif /* GRADUS_TYPES_H */
