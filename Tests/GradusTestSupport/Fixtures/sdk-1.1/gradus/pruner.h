/*
 * gradus/pruner.h — the pruning kind.
 *
 * A pruner scores weights (and/or writes masks). When it scores, it also says
 * how much to prune and over which scope; the host then ranks by a stable sort
 * on (score, flat index), lowest first, keeps entries that are already pruned
 * pruned, and applies the masks to weights, gradients and optimizer state.
 *
 * Threading: create/destroy and the hooks are lifecycle calls; score and
 * update_masks are compute calls; all serialised per instance.
 */
#ifndef GRADUS_PRUNER_H
#define GRADUS_PRUNER_H

#include "host.h"

#define GRADUS_PRUNE_SCOPE_LAYER  0  /* every target reaches the sparsity on its own */
#define GRADUS_PRUNE_SCOPE_GLOBAL 1  /* one threshold over all targets together */

/* One prunable tensor as the pruner sees it. Written by the host. */
typedef struct gradus_prune_target {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;
    int32_t role;
    uint32_t reserved;
    const gradus_tensor_view *weight;    /* read-only */
    const gradus_tensor_view *grad;      /* read-only; NULL when no gradient is available */
    gradus_tensor_view *mask;            /* 0/1; writable only in update_masks */
    gradus_tensor_view *scores;          /* writable in score: higher = more important */
} gradus_prune_target;

/* What the pruner asks the host to do with its scores. Written by the pruner. */
typedef struct gradus_prune_plan {
    uint32_t struct_size;
    uint32_t abi_minor;
    double sparsity;                     /* target fraction of zeros in [0, 1] */
    int32_t scope;                       /* GRADUS_PRUNE_SCOPE_* */
    uint8_t skip;                        /* 1: do not prune at this call */
    uint8_t reserved[3];
} gradus_prune_plan;

typedef struct gradus_prune_context {
    uint32_t struct_size;
    uint32_t abi_minor;
    int64_t step;                        /* optimizer steps done so far */
    int64_t total_steps;                 /* planned length of the run; 0 when unknown */
    const gradus_host_services *services;
    gradus_rng_handle rng;
    const gradus_hp_values *hyperparameters; /* the pruner's values at this call, schedules applied */
} gradus_prune_context;

#define GRADUS_PRUNE_EVENT_TRAIN_BEGIN 0
#define GRADUS_PRUNE_EVENT_STEP_END    1
#define GRADUS_PRUNE_EVENT_EPOCH_END   2

typedef struct gradus_pruner_vtable {
    uint32_t struct_size;
    uint32_t abi_minor;
    /* Required. Lifecycle. */
    int32_t (*create)(const struct gradus_strategy_descriptor *strategy,
                      const gradus_host_services *services, const gradus_hp_values *hp, void **out_instance);
    /* Required. Lifecycle. */
    void (*destroy)(void *instance);
    /*
     * Writes scores for every target and fills *plan. At least one of score and
     * update_masks is required. Compute. All pointers borrowed.
     */
    int32_t (*score)(void *instance, const gradus_prune_context *ctx,
                     const gradus_prune_target *targets, uint32_t count, gradus_prune_plan *plan);
    /* Writes masks directly (methods that do not rank). Compute. */
    int32_t (*update_masks)(void *instance, const gradus_prune_context *ctx,
                            const gradus_prune_target *targets, uint32_t count);
    /* Optional lifecycle hook; event is GRADUS_PRUNE_EVENT_*. */
    int32_t (*on_event)(void *instance, const gradus_prune_context *ctx, int32_t event);
} gradus_pruner_vtable;

#endif /* GRADUS_PRUNER_H */
