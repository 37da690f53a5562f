/*
 * gradus/optimizer.h — the optimizer kind.
 *
 * An optimizer declares a state layout (named slots per parameter); the HOST
 * allocates, names, checkpoints and masks that state, so every optimizer's
 * state saves, loads and survives reloads without plugin code. Anything that
 * does not fit the slots goes into optional, versioned opaque extra state.
 *
 * Threading: create/destroy/state_layout/save_extra/load_extra are lifecycle
 * calls, step is a compute call; both are serialised per instance by the host
 * (never two calls on one instance at once) but may come from any thread.
 * Distinct instances may be used concurrently.
 */
#ifndef GRADUS_OPTIMIZER_H
#define GRADUS_OPTIMIZER_H

#include "host.h"

#define GRADUS_SLOT_LIKE_PARAM 1  /* same shape as the parameter */
#define GRADUS_SLOT_SCALAR     2  /* one float per parameter (rounds: a float counts exactly only to 2^24) */
#define GRADUS_SLOT_SCALAR_F64 3  /* ABI 1.1: one double per parameter, for counters and other values
                                     that must stay exact; in gradus_param.scalars, not .slots */
#define GRADUS_SLOT_SHAPED     4  /* ABI 1.2: a float32 tensor whose shape the optimizer chooses per
                                     parameter through the vtable's slot_shape (factored moments, one
                                     value per row, projectors); it may be empty for some parameters */
#define GRADUS_MAX_SLOT_RANK   8  /* the most dimensions slot_shape may give */

#define GRADUS_SLOT_MASKED 1u     /* zeroed where a pruning mask is zero (LIKE_PARAM only) */

/* One named state slot. Owned by the instance; valid until destroy. */
typedef struct gradus_state_slot {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;       /* stable, unique within the optimizer, e.g. "exp_avg" */
    int32_t shape_kind;     /* GRADUS_SLOT_* */
    uint32_t flags;         /* GRADUS_SLOT_MASKED ... */
    double initial_value;   /* every element starts at this value */
} gradus_state_slot;

#define GRADUS_PARAM_PRUNABLE 1u  /* weights a pruner may mask */

/* One parameter as the optimizer sees it during step. Written by the host. */
typedef struct gradus_param {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;                    /* e.g. "layers.0.weight" */
    int32_t role;                        /* GRADUS_ROLE_* */
    uint32_t flags;                      /* GRADUS_PARAM_* */
    gradus_tensor_view *value;           /* writable: the optimizer updates it in place */
    const gradus_tensor_view *grad;      /* read-only, same shape */
    gradus_tensor_view *const *slots;    /* the state slots, in layout order; writable */
    uint32_t slot_count;
    uint32_t reserved;
    const gradus_tensor_view *mask;      /* NULL when unpruned; 0/1 per element otherwise */
    /* ---- ABI 1.1 (present when struct_size reaches them) ---- */
    double *scalars;                     /* slot_count entries indexed like slots: entry i is slot i's
                                            value when slot i is GRADUS_SLOT_SCALAR_F64 (then slots[i]
                                            is NULL); other entries are unused. Writable. */
} gradus_param;

/* The parameters stepped together with one set of hyperparameters. */
typedef struct gradus_param_group {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;                    /* the group's name ("default" if only one) */
    const gradus_param *params;          /* count entries (GRADUS_ARRAY_AT) */
    uint32_t count;
    uint32_t reserved;
} gradus_param_group;

/* Everything a step may need besides the parameters. Borrowed for the call. */
typedef struct gradus_step_context {
    uint32_t struct_size;
    uint32_t abi_minor;
    int64_t step;                        /* 1 on the first update */
    const gradus_hp_values *hyperparameters; /* the group's values at this step, schedules applied */
    const gradus_host_services *services;
    gradus_run_handle run;               /* for the autodiff services; may be NULL */
    gradus_rng_handle rng;               /* this instance's stream */
    double loss;                         /* valid when has_loss = 1 */
    uint8_t has_loss;
    uint8_t reserved[7];
} gradus_step_context;

/* A byte buffer a plugin fills for save_extra; memory from services->alloc, owned by the host after return. */
typedef struct gradus_bytes {
    uint32_t struct_size;
    uint32_t abi_minor;
    uint8_t *data;
    uint64_t size;
    uint32_t version;                    /* the plugin's own format version */
    uint32_t reserved;
} gradus_bytes;

typedef struct gradus_optimizer_vtable {
    uint32_t struct_size;
    uint32_t abi_minor;

    /*
     * Required. Creates an instance for one parameter group. `hp` is complete
     * and range-checked by the host; the plugin checks cross-field rules (e.g.
     * Nesterov needs momentum) and fails with GRADUS_ERR_INVALID_ARGUMENT.
     * Lifecycle. Borrowed: services (lives forever), hp (this call only).
     * *out_instance is owned by the host until it passes it to destroy.
     */
    int32_t (*create)(const struct gradus_strategy_descriptor *strategy,
                      const gradus_host_services *services, const gradus_hp_values *hp, void **out_instance);

    /* Required. Frees an instance. Lifecycle. */
    void (*destroy)(void *instance);

    /*
     * Required. The per-parameter state this instance needs. *out_slots is owned
     * by the instance and valid until destroy. Lifecycle. May report 0 slots.
     */
    int32_t (*state_layout)(void *instance, const gradus_state_slot **out_slots, uint32_t *out_count);

    /*
     * Required. Updates every parameter of `group` in place from its gradient
     * and its slots. Compute. All pointers are borrowed for the call.
     */
    int32_t (*step)(void *instance, const gradus_step_context *ctx, const gradus_param_group *group);

    /* Optional. Serialises state that does not fit the slots into *out. Lifecycle. */
    int32_t (*save_extra)(void *instance, const gradus_host_services *services, gradus_bytes *out);

    /* Optional. Restores what save_extra wrote; GRADUS_ERR_VERSION for an unknown version. Lifecycle. */
    int32_t (*load_extra)(void *instance, const gradus_bytes *in);

    /* ---- ABI 1.2 (present when struct_size reaches it) ---- */

    /*
     * Required when state_layout declares a GRADUS_SLOT_SHAPED slot. Gives the shape
     * of slot `slot` (its index in the layout) for `param`: writes *out_rank (at most
     * GRADUS_MAX_SLOT_RANK) sizes into out_shape. Rank 0 is a single float; a size of 0
     * makes the slot empty for this parameter (e.g. Adafactor's row factor on a vector).
     * Only param->name, role, flags and value (for its shape; its data may change
     * before the first step) are valid; grad, slots, mask and scalars are NULL.
     * Lifecycle: called once per parameter and shaped slot when the host allocates the
     * state; the host refuses negative sizes and shapes of more than 2^34 elements.
     * The slot starts at its initial_value everywhere; the host checkpoints it under
     * its name with this shape, and never masks it.
     */
    int32_t (*slot_shape)(void *instance, uint32_t slot, const gradus_param *param,
                          int64_t *out_shape, uint32_t *out_rank);

    /*
     * Required with GRADUS_CAP_EVAL_POINT, else NULL. Writes the point the model is to be
     * evaluated (and saved for inference) at into every parameter's value, from the value
     * the optimizer trains (which it may read) and its state: schedule-free methods train
     * y and evaluate x. Called by the host before it evaluates or checkpoints; the host keeps
     * the training values aside and puts them back itself afterwards, so the exchange is
     * exact and the plugin never has to invert it. Compute; grad is the last gradient and
     * must not be relied on; slots are readable and must not be changed.
     */
    int32_t (*eval_point)(void *instance, const gradus_step_context *ctx, const gradus_param_group *group);
} gradus_optimizer_vtable;

#endif /* GRADUS_OPTIMIZER_H */
