/*
 * One plugin per property of `gradus plugins check`, each breaking exactly that property
 * (compile with -DBREAK_<NAME>). Without a BREAK_ macro every variant is well behaved, so each
 * failure the kit reports is caused by the one defect compiled in. Used by PluginCheckTests.
 */
#include <gradus/kit.h>
#include <stdlib.h>

#if defined(BREAK_ZERO) || defined(BREAK_LR) || defined(BREAK_DETERMINISM) || defined(BREAK_INDEPENDENCE) \
    || defined(BREAK_SAVELOAD) || defined(BREAK_SCHEDULE) || defined(BREAK_FINITE) || defined(BREAK_MAXIMIZE) || defined(OPTIMIZER)
/* ---- an optimizer: heavy-ball momentum m <- 0.5 m + g; x <- x - lr m ---- */
typedef struct { double create_lr; int ordinal; float hidden[64]; } instance;
static int instances;
static const gradus_hyperparameter schema[] = {
    GRADUS_REAL("lr", "learning rate", 0.1, 0, 1, GRADUS_HP_SCHEDULABLE),
    GRADUS_FLAG("maximize", "ascend instead of descend", 0),
};
static const gradus_state_slot slots[] = { GRADUS_SLOT_LIKE_PARAM_("m", 0.0) };
static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
    (void)s; (void)h;
    instance *i = calloc(1, sizeof(instance));
    i->create_lr = gradus_hp(hp, 0)->f64;
    i->ordinal = ++instances;
    *out = i;
    return GRADUS_OK;
}
static void destroy(void *i) { free(i); }
static int32_t layout(void *i, const gradus_state_slot **s, uint32_t *n) { (void)i; *s = slots; *n = 1; return GRADUS_OK; }
static int32_t step(void *raw, const gradus_step_context *c, const gradus_param_group *g) {
    instance *self = raw;
    (void)self;
    float lr = (float)gradus_hp(c->hyperparameters, 0)->f64;
#ifdef BREAK_LR
    if (self->create_lr == 0) lr = 0.1f;               /* lr = 0 at creation is ignored */
#endif
#ifdef BREAK_SCHEDULE
    lr = (float)self->create_lr;                        /* caches lr: a schedule cannot change it */
#endif
    float sign = gradus_hp(c->hyperparameters, 1)->i64 ? -1.0f : 1.0f;
#ifdef BREAK_MAXIMIZE
    sign = 1.0f;                                        /* maximize is declared but ignored */
#endif
    float first_grad_sum = 0;
    for (uint32_t k = 0; k < g->count; k++) first_grad_sum += sign * gradus_group_param(g, k)->grad->data[0];
    for (uint32_t k = 0; k < g->count; k++) {
        const gradus_param *p = gradus_group_param(g, k);
        float *m = p->slots[0]->data;
        for (int64_t e = 0; e < p->value->count; e++) {
            float grad = sign * p->grad->data[e];
#ifdef BREAK_ZERO
            grad += 0.01f;                              /* moves without a gradient */
#endif
#ifdef BREAK_INDEPENDENCE
            grad += 0.1f * (first_grad_sum - sign * p->grad->data[0]);   /* reads the other parameters */
#endif
#ifdef BREAK_DETERMINISM
            if (self->ordinal == 2 && g->count == 2 && c->step >= 5) grad += 1e-3f;  /* a second identical run differs */
#endif
#ifdef BREAK_SAVELOAD
            float *mm = &self->hidden[(k * 16 + e) % 64];  /* momentum outside the host's slots */
            *mm = 0.5f * *mm + grad;
            p->value->data[e] -= lr * *mm;
            continue;
#endif
            m[e] = 0.5f * m[e] + grad;
            p->value->data[e] -= lr * m[e];
        }
#ifdef BREAK_FINITE
        if (c->step >= 8) m[0] = 1.0f / 0.0f;          /* state turns infinite (unused afterwards) */
#endif
    }
    (void)first_grad_sum;
    return GRADUS_OK;
}
static const gradus_optimizer_vtable vtable = { .struct_size = sizeof(gradus_optimizer_vtable), .abi_minor = GRADUS_ABI_MINOR, .create = create, .destroy = destroy, .state_layout = layout, .step = step };
static const gradus_strategy_descriptor strategy =
    GRADUS_OPTIMIZER("broken.optimizer", "Broken optimizer", "0.0.1", "breaks one property", NULL, 0, schema, &vtable);

#else
#if defined(BREAK_FD) || defined(BREAK_GRAPH) || defined(BREAK_EVAL) || defined(NAN_BACKWARD) || defined(NORMALIZER)
/* ---- a normalizer: the identity (kernel form; graph form too unless BREAK_FD or BREAK_EVAL) ---- */
static const gradus_host_services *services;
static int token;
static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp,
                      const gradus_norm_config *cfg, void **out) {
    (void)s; (void)hp; (void)cfg; services = h; *out = &token; return GRADUS_OK;
}
static void destroy(void *i) { (void)i; }
static int32_t describe(void *i, const gradus_norm_tensor_spec **p, uint32_t *pc, const gradus_norm_tensor_spec **b, uint32_t *bc) {
    (void)i; *p = NULL; *pc = 0; *b = NULL; *bc = 0; return GRADUS_OK;
}
static int32_t forward(void *i, int32_t mode, const gradus_tensor_view *x, const gradus_tensor_view *const *params,
                       gradus_tensor_view *const *buffers, gradus_tensor_view *y) {
    (void)i; (void)params; (void)buffers; (void)mode;
    float mean = 0;
    for (int64_t e = 0; e < x->count; e++) mean += x->data[e];
    mean /= (float)x->count;
    for (int64_t e = 0; e < x->count; e++) {
        y->data[e] = x->data[e];
#ifdef BREAK_EVAL
        if (mode == GRADUS_MODE_EVAL) y->data[e] -= mean;  /* eval output depends on the batch */
#endif
    }
    (void)mean;
    return GRADUS_OK;
}
static int32_t backward(void *i, int32_t mode, const gradus_tensor_view *x, const gradus_tensor_view *const *params,
                        const gradus_tensor_view *const *buffers, const gradus_tensor_view *dy, gradus_tensor_view *dx,
                        gradus_tensor_view *const *d_params) {
    (void)i; (void)mode; (void)x; (void)params; (void)buffers; (void)d_params;
    for (int64_t e = 0; e < dy->count; e++) {
        dx->data[e] = dy->data[e];
#ifdef BREAK_FD
        dx->data[e] *= 2;                                /* the wrong derivative */
#endif
#ifdef NAN_BACKWARD
        dx->data[e] = NAN;                               /* a finite loss with a NaN gradient (FaultTests) */
#endif
    }
    return GRADUS_OK;
}
#if !defined(BREAK_FD) && !defined(BREAK_EVAL)
static int32_t build_graph(void *i, int32_t mode, gradus_graph_handle graph, gradus_node x, const gradus_node *params,
                           const gradus_node *buffers, gradus_node *out) {
    (void)i; (void)mode; (void)params; (void)buffers;
#ifdef BREAK_GRAPH
    const gradus_node twice[] = { x, x };                /* the graph form computes 2x */
    return services->graph_op(graph, "add", twice, 2, NULL, out);
#else
    (void)graph;
    *out = x;
    return GRADUS_OK;
#endif
}
#define BUILD_GRAPH build_graph
#else
#define BUILD_GRAPH NULL
#endif
static const gradus_normalizer_vtable vtable = { sizeof(gradus_normalizer_vtable), GRADUS_ABI_MINOR, create, destroy, describe,
                                                 forward, backward, BUILD_GRAPH };
static const gradus_strategy_descriptor strategy = { .struct_size = sizeof(gradus_strategy_descriptor), .abi_minor = GRADUS_ABI_MINOR,
    .kind = GRADUS_KIND_NORMALIZER, .id = "broken.normalizer", .display_name = "Broken normalizer", .version = "0.0.1",
    .summary = "breaks one property", .vtable = &vtable };

#else
/* ---- a pruner: |w| scores (BREAK_SPARSITY, BREAK_PRUNE_DETERMINISM, PRUNER) ---- */
static int instances;
static const gradus_hyperparameter schema[] = { GRADUS_REAL("sparsity", "target", 0.5, 0, 1, GRADUS_HP_SCHEDULABLE) };
static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
    (void)s; (void)h; (void)hp; *out = (void *)(intptr_t)(++instances); return GRADUS_OK;
}
static void destroy(void *i) { (void)i; }
static int32_t score(void *i, const gradus_prune_context *c, const gradus_prune_target *t, uint32_t n, gradus_prune_plan *plan) {
    int ordinal = (int)(intptr_t)i;
    for (uint32_t k = 0; k < n; k++) {
        const gradus_prune_target *x = GRADUS_ARRAY_AT(const gradus_prune_target, t, k);
        for (int64_t e = 0; e < x->weight->count; e++) {
            float w = x->weight->data[e];
            x->scores->data[e] = w < 0 ? -w : w;
#ifdef BREAK_PRUNE_DETERMINISM
            if (ordinal == 2) x->scores->data[e] = (float)((e * 7 + 3) % 11);  /* a second instance scores otherwise */
#endif
        }
    }
    (void)ordinal;
    plan->sparsity = gradus_hp(c->hyperparameters, 0)->f64;
#ifdef BREAK_SPARSITY
    plan->sparsity /= 2;                                 /* prunes half of what was asked */
#endif
    plan->scope = GRADUS_PRUNE_SCOPE_LAYER;
    plan->skip = 0;
    return GRADUS_OK;
}
static const gradus_pruner_vtable vtable = { sizeof(gradus_pruner_vtable), GRADUS_ABI_MINOR, create, destroy, score, NULL, NULL };
static const gradus_strategy_descriptor strategy = { .struct_size = sizeof(gradus_strategy_descriptor), .abi_minor = GRADUS_ABI_MINOR,
    .kind = GRADUS_KIND_PRUNER, .id = "broken.pruner", .display_name = "Broken pruner", .version = "0.0.1",
    .summary = "breaks one property", .hyperparameters = schema, .hyperparameter_count = 1, .vtable = &vtable };
#endif
#endif

GRADUS_LIBRARY(library, "broken", "test", &strategy);
GRADUS_DEFINE_ENTRY(library)
