/*
 * gradus/function.h — the function kind: plain C functions whose signature is
 * known only at run time (schedules, initialisers, metrics).
 *
 * The host calls `fn` through libffi after binding each argument by name from
 * the run's configuration. The signature grammar:
 *     signature := type name "(" [ arg { "," arg } ] ")"
 *     arg       := type name
 *     type      := "void" (return only) | "bool" | "i32" | "u32" | "i64" | "u64"
 *                | "f32" | "f64" | "str"
 *     name      := [A-Za-z_][A-Za-z0-9_]*
 * bool is uint8_t, str is const char * (borrowed for the call; a returned str
 * must point to static storage). Example:
 *     "f64 cosine_warmup(i64 step, i64 total_steps, f64 base, f64 floor, i64 warmup_steps)"
 * A schedule receives the scheduled hyperparameter's configured value as `base`
 * and the 0-based step as `step`, and returns the value to use.
 *
 * Threading: a function must be thread-safe and free of side effects unless its
 * summary says otherwise.
 */
#ifndef GRADUS_FUNCTION_H
#define GRADUS_FUNCTION_H

#include "types.h"

/* The generic pointer type a function is stored as; the host casts it back through libffi. */
typedef void (*gradus_generic_fn)(void);

#define GRADUS_FUNCTION_SCHEDULE    1u  /* usable as a hyperparameter schedule */
#define GRADUS_FUNCTION_INITIALIZER 2u
#define GRADUS_FUNCTION_METRIC      4u

typedef struct gradus_function_vtable {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *signature;   /* required, grammar above; static storage */
    gradus_generic_fn fn;    /* required */
    uint32_t purpose;        /* GRADUS_FUNCTION_* flags */
    uint32_t reserved;
} gradus_function_vtable;

#endif /* GRADUS_FUNCTION_H */
