/*
 * RMSprop as a Gradus optimizer plugin in plain C99, with the SDK's <gradus/kit.h> helpers.
 *     cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden -I <gradus>/SDK/include rmsprop.c -o librmsprop.so -lm
 * torch.optim.RMSprop without momentum or centering (Tieleman & Hinton 2012):
 *     g <- g + wd*x;   v <- alpha*v + (1 - alpha)*g^2;   x <- x - lr * g / (sqrt(v) + eps)
 * The running average v lives in a state slot the host allocates, checkpoints and masks.
 */
#include <gradus/kit.h>

enum { LR, ALPHA, EPS, WEIGHT_DECAY };   /* schema positions: the host passes values in this order */

static const gradus_hyperparameter schema[] = {
    GRADUS_REAL("lr", "learning rate", 1e-2, 0, GRADUS_NO_MAX, GRADUS_HP_LOG_SCALE | GRADUS_HP_SCHEDULABLE),
    GRADUS_REAL("alpha", "decay of the squared-gradient average", 0.99, 0, 1, GRADUS_HP_MAX_EXCLUSIVE),
    GRADUS_REAL("eps", "added to the root", 1e-8, 0, GRADUS_NO_MAX, GRADUS_HP_LOG_SCALE | GRADUS_HP_MIN_EXCLUSIVE),
    GRADUS_REAL("weight_decay", "coupled L2 penalty added to the gradient", 0, 0, GRADUS_NO_MAX, 0),
};
static const gradus_state_slot slots[] = { GRADUS_SLOT_LIKE_PARAM_("square_avg", 0.0) };

static int32_t step(void *instance, const gradus_step_context *ctx, const gradus_param_group *group) {
    (void)instance;
    const float lr = (float)gradus_hp(ctx->hyperparameters, LR)->f64, alpha = (float)gradus_hp(ctx->hyperparameters, ALPHA)->f64;
    const float eps = (float)gradus_hp(ctx->hyperparameters, EPS)->f64, wd = (float)gradus_hp(ctx->hyperparameters, WEIGHT_DECAY)->f64;
    for (uint32_t i = 0; i < group->count; i++) {
        const gradus_param *p = gradus_group_param(group, i);
        float *x = p->value->data, *v = p->slots[0]->data;
        for (int64_t k = 0; k < p->value->count; k++) {
            const float g = p->grad->data[k] + wd * x[k];
            v[k] = alpha * v[k] + (1.0f - alpha) * g * g;
            x[k] -= lr * g / (sqrtf(v[k]) + eps);
        }
    }
    return GRADUS_OK;
}

GRADUS_STATELESS_OPTIMIZER(vtable, slots, step);
static const gradus_strategy_descriptor rmsprop = GRADUS_OPTIMIZER("example.rmsprop", "RMSprop", "1.0.0",
    "steps scaled by a running RMS of the gradient", "Tieleman & Hinton 2012; torch.optim.RMSprop", 0, schema, &vtable);
GRADUS_LIBRARY(library, "example-rmsprop", "example", &rmsprop);
GRADUS_DEFINE_ENTRY(library)
