/*
 * Signum (sign of momentum) as a Gradus optimizer plugin in plain C99.
 * Built out of tree with nothing but the SDK headers:
 *     cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden -I <gradus>/SDK/include signum.c -o libsignum.so
 * Update (Bernstein et al. 2018, "signSGD"):
 *     m <- beta * m + (1 - beta) * g;   x <- x - lr * sign(m)
 * The momentum m lives in a state slot the host allocates, checkpoints and masks.
 */
#include <gradus/gradus.h>

enum { HP_LR, HP_BETA };   /* positions in the schema; the host passes values in this order */

static const gradus_hyperparameter schema[] = {
    { sizeof(gradus_hyperparameter), GRADUS_ABI_MINOR, "lr", "learning rate", "step length of each sign step",
      GRADUS_HP_F64, GRADUS_HP_LOG_SCALE | GRADUS_HP_SCHEDULABLE, 1e-3, 0.0, 1e9, 0, 0, 0, NULL, NULL, 0, 0 },
    { sizeof(gradus_hyperparameter), GRADUS_ABI_MINOR, "beta", "momentum", "EMA decay of the gradient",
      GRADUS_HP_F64, GRADUS_HP_MAX_EXCLUSIVE, 0.9, 0.0, 1.0, 0, 0, 0, NULL, NULL, 0, 0 },
};

static const gradus_state_slot slots[] = {
    { sizeof(gradus_state_slot), GRADUS_ABI_MINOR, "momentum", GRADUS_SLOT_LIKE_PARAM, GRADUS_SLOT_MASKED, 0.0 },
};

/* This optimizer keeps nothing per instance beyond its slots, so one static token serves. */
static int instance_token;

static int32_t signum_create(const struct gradus_strategy_descriptor *strategy, const gradus_host_services *services,
                             const gradus_hp_values *hp, void **out_instance) {
    (void)strategy; (void)services; (void)hp;
    *out_instance = &instance_token;
    return GRADUS_OK;
}

static void signum_destroy(void *instance) { (void)instance; }

static int32_t signum_state_layout(void *instance, const gradus_state_slot **out_slots, uint32_t *out_count) {
    (void)instance;
    *out_slots = slots;
    *out_count = 1;
    return GRADUS_OK;
}

static int32_t signum_step(void *instance, const gradus_step_context *ctx, const gradus_param_group *group) {
    (void)instance;
    const gradus_hp_value *lr = GRADUS_ARRAY_AT(const gradus_hp_value, ctx->hyperparameters->values, HP_LR);
    const gradus_hp_value *beta = GRADUS_ARRAY_AT(const gradus_hp_value, ctx->hyperparameters->values, HP_BETA);
    const float step = (float)lr->f64, b = (float)beta->f64;
    for (uint32_t i = 0; i < group->count; i++) {
        const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, group->params, i);
        float *x = p->value->data, *m = p->slots[0]->data;
        const float *g = p->grad->data;
        for (int64_t k = 0; k < p->value->count; k++) {
            m[k] = b * m[k] + (1.0f - b) * g[k];
            x[k] -= step * (float)((m[k] > 0.0f) - (m[k] < 0.0f));
        }
    }
    return GRADUS_OK;
}

static const gradus_optimizer_vtable vtable = {
    sizeof(gradus_optimizer_vtable), GRADUS_ABI_MINOR,
    signum_create, signum_destroy, signum_state_layout, signum_step, NULL, NULL,
};

static const gradus_strategy_descriptor signum = {
    sizeof(gradus_strategy_descriptor), GRADUS_ABI_MINOR, GRADUS_KIND_OPTIMIZER, 0,
    "example.signum", "Signum", "1.0.0", "sign of an EMA of the gradient, times lr",
    "Bernstein et al. 2018, signSGD", 0, schema, 2, 0, &vtable,
};

static const gradus_strategy_descriptor *const strategies[] = { &signum };

static const gradus_library_descriptor library = {
    sizeof(gradus_library_descriptor), GRADUS_ABI_MINOR, "example-signum", "example", strategies, 1, 0,
};

/* The only exported symbol. Negotiation has no side effects. */
GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response);
GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response) {
    if (request == NULL || response == NULL || request->abi_major != GRADUS_ABI_MAJOR
        || request->struct_size < sizeof(gradus_entry_request) || response->struct_size < sizeof(gradus_entry_response))
        return GRADUS_ERR_VERSION;
    response->abi_minor = gradus_negotiated_minor(request);
    response->library = &library;
    return GRADUS_OK;
}
