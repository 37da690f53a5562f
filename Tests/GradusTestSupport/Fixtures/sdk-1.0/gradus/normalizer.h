/*
 * gradus/normalizer.h — the normalizer kind.
 *
 * Given the input shape, a normalizer declares its parameters (gain, bias) and
 * buffers (running statistics), and provides at least one form:
 *  (a) graph form: build_graph adds its forward to a host graph through
 *      services->graph_op, so gradients (of any order) come from the host core;
 *  (b) kernel form: forward and backward on raw buffers.
 * The host checks a kernel form against finite differences (gradus plugins check).
 *
 * Threading: create/destroy/describe are lifecycle calls; forward, backward and
 * build_graph are compute calls, serialised per instance.
 */
#ifndef GRADUS_NORMALIZER_H
#define GRADUS_NORMALIZER_H

#include "host.h"

#define GRADUS_MODE_TRAIN 0
#define GRADUS_MODE_EVAL  1

/* The input a normalizer instance is created for. Borrowed for create. */
typedef struct gradus_norm_config {
    uint32_t struct_size;
    uint32_t abi_minor;
    const int64_t *input_shape;   /* ndim entries; axis 0 is the batch axis */
    int32_t ndim;
    int32_t channel_axis;         /* the feature/channel axis (1 for NCHW / NC) */
    int32_t normalized_dims;      /* LayerNorm-style: how many trailing axes form one sample's features */
    uint32_t reserved;
} gradus_norm_config;

/* A parameter or buffer the normalizer needs. Owned by the instance; valid until destroy. */
typedef struct gradus_norm_tensor_spec {
    uint32_t struct_size;
    uint32_t abi_minor;
    const char *name;             /* "weight", "bias", "running_mean", ... */
    int32_t role;                 /* GRADUS_ROLE_NORM_GAIN, GRADUS_ROLE_NORM_BIAS (buffers: UNKNOWN) */
    int32_t ndim;
    const int64_t *shape;
    double initial_value;
} gradus_norm_tensor_spec;

typedef struct gradus_normalizer_vtable {
    uint32_t struct_size;
    uint32_t abi_minor;

    /* Required. Creates an instance for inputs described by cfg. Lifecycle. */
    int32_t (*create)(const struct gradus_strategy_descriptor *strategy,
                      const gradus_host_services *services, const gradus_hp_values *hp,
                      const gradus_norm_config *cfg, void **out_instance);
    /* Required. Lifecycle. */
    void (*destroy)(void *instance);

    /* Required. Lists parameters and buffers (arrays owned by the instance). Lifecycle. */
    int32_t (*describe)(void *instance,
                        const gradus_norm_tensor_spec **out_params, uint32_t *out_param_count,
                        const gradus_norm_tensor_spec **out_buffers, uint32_t *out_buffer_count);

    /*
     * Kernel form (optional, with backward). y = f(x); params in describe order
     * (read-only), buffers writable (running statistics are updated in train
     * mode). All views borrowed; x and y are contiguous with the configured shape.
     */
    int32_t (*forward)(void *instance, int32_t mode, const gradus_tensor_view *x,
                       const gradus_tensor_view *const *params, gradus_tensor_view *const *buffers,
                       gradus_tensor_view *y);

    /*
     * Kernel form. Given x, params and dy, writes dx and the parameter gradients
     * (d_params in describe order; an entry may be NULL when not wanted). Uses the
     * statistics of x (train mode) or the buffers (eval mode). Overwrites, never accumulates.
     */
    int32_t (*backward)(void *instance, int32_t mode, const gradus_tensor_view *x,
                        const gradus_tensor_view *const *params, const gradus_tensor_view *const *buffers,
                        const gradus_tensor_view *dy, gradus_tensor_view *dx,
                        gradus_tensor_view *const *d_params);

    /*
     * Graph form (optional). Adds y = f(x) to `graph` through services->graph_op;
     * params and buffers are nodes in describe order. Compute.
     */
    int32_t (*build_graph)(void *instance, int32_t mode, gradus_graph_handle graph,
                           gradus_node x, const gradus_node *params, const gradus_node *buffers,
                           gradus_node *out_y);
} gradus_normalizer_vtable;

#endif /* GRADUS_NORMALIZER_H */
