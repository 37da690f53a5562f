/*
 * gradus/kit.h — conveniences for plugins written in C (not part of the binary ABI).
 *
 * The ABI structs are plain C99 data; these macros write them as designated initialisers, so a
 * hyperparameter, a state slot or a strategy is one readable line with the header fields filled
 * in, and the entry function is one macro. Include this instead of gradus.h in a C plugin:
 *
 *     static const gradus_hyperparameter schema[] = {
 *         GRADUS_REAL("lr", "learning rate", 1e-2, 0, GRADUS_NO_MAX, GRADUS_HP_LOG_SCALE | GRADUS_HP_SCHEDULABLE),
 *     };
 *     static const gradus_state_slot slots[] = { GRADUS_SLOT_LIKE_PARAM_("square_avg", 0.0) };
 *     GRADUS_STATELESS_OPTIMIZER(rmsprop_vtable, slots, rmsprop_step);
 *     static const gradus_strategy_descriptor rmsprop =
 *         GRADUS_OPTIMIZER("example.rmsprop", "RMSprop", "1.0.0", "summary", "reference", 0, schema, &rmsprop_vtable);
 *     GRADUS_LIBRARY(library, "example-rmsprop", "example", &rmsprop);
 *     GRADUS_DEFINE_ENTRY(library)
 *
 * Everything here expands to static data and static inline functions in the plugin itself.
 */
#ifndef GRADUS_KIT_H
#define GRADUS_KIT_H

#include <math.h>
#include "gradus.h"

/* ---- ranges: no lower or upper bound ---- */
#define GRADUS_NO_MIN (-HUGE_VAL)
#define GRADUS_NO_MAX HUGE_VAL
#define GRADUS_NO_MIN_I64 INT64_MIN
#define GRADUS_NO_MAX_I64 INT64_MAX

/* The number of elements of a static array. */
#define GRADUS_COUNT(array) ((uint32_t)(sizeof(array) / sizeof((array)[0])))

/* ---- hyperparameters (gradus_hyperparameter initialisers; the display name is the id) ---- */
#define GRADUS_REAL(id_, doc_, default_, min_, max_, flags_)                                         \
    { .struct_size = sizeof(gradus_hyperparameter), .abi_minor = GRADUS_ABI_MINOR, .id = (id_),     \
      .name = (id_), .doc = (doc_), .type = GRADUS_HP_F64, .flags = (flags_),                       \
      .default_f64 = (default_), .min_f64 = (min_), .max_f64 = (max_) }
#define GRADUS_INTEGER(id_, doc_, default_, min_, max_, flags_)                                      \
    { .struct_size = sizeof(gradus_hyperparameter), .abi_minor = GRADUS_ABI_MINOR, .id = (id_),     \
      .name = (id_), .doc = (doc_), .type = GRADUS_HP_I64, .flags = (flags_),                       \
      .default_i64 = (default_), .min_i64 = (min_), .max_i64 = (max_) }
#define GRADUS_FLAG(id_, doc_, default_)                                                             \
    { .struct_size = sizeof(gradus_hyperparameter), .abi_minor = GRADUS_ABI_MINOR, .id = (id_),     \
      .name = (id_), .doc = (doc_), .type = GRADUS_HP_BOOL, .default_i64 = (default_) ? 1 : 0,      \
      .min_i64 = 0, .max_i64 = 1 }
/* `values_` is a static array of names; `default_index_` indexes it. */
#define GRADUS_CHOICE(id_, doc_, values_, default_index_)                                            \
    { .struct_size = sizeof(gradus_hyperparameter), .abi_minor = GRADUS_ABI_MINOR, .id = (id_),     \
      .name = (id_), .doc = (doc_), .type = GRADUS_HP_ENUM, .default_i64 = (default_index_),        \
      .min_i64 = 0, .max_i64 = (int64_t)GRADUS_COUNT(values_) - 1, .enum_values = (values_),       \
      .enum_count = GRADUS_COUNT(values_) }

/* ---- optimizer state slots (gradus_state_slot initialisers) ---- */
#define GRADUS_SLOT_LIKE_PARAM_(name_, initial_)                                                     \
    { sizeof(gradus_state_slot), GRADUS_ABI_MINOR, (name_), GRADUS_SLOT_LIKE_PARAM, GRADUS_SLOT_MASKED, (initial_) }
#define GRADUS_SLOT_SCALAR_(name_, initial_)                                                         \
    { sizeof(gradus_state_slot), GRADUS_ABI_MINOR, (name_), GRADUS_SLOT_SCALAR, 0, (initial_) }

/* ---- reading what the host passes ---- */
/* Hyperparameter `index` (its position in the schema) of a step context or create call. */
static inline const gradus_hp_value *gradus_hp(const gradus_hp_values *values, uint32_t index) {
    return GRADUS_ARRAY_AT(const gradus_hp_value, values->values, index);
}
/* Parameter `i` of a group. */
static inline const gradus_param *gradus_group_param(const gradus_param_group *group, uint32_t i) {
    return GRADUS_ARRAY_AT(const gradus_param, group->params, i);
}

/* ---- an optimizer whose only state is its slots ----
 * Defines `vtable_name` with create/destroy that keep no per-instance data, a state_layout that
 * answers the static `slots_` array, and `step_` (int32_t step_(void *, const gradus_step_context *,
 * const gradus_param_group *)) as the step function. */
static inline int32_t gradus_kit_create_stateless(const struct gradus_strategy_descriptor *strategy,
                                                  const gradus_host_services *services, const gradus_hp_values *hp,
                                                  void **out_instance) {
    (void)services; (void)hp;
    *out_instance = (void *)(uintptr_t)strategy; /* any non-NULL token; never dereferenced */
    return GRADUS_OK;
}
static inline void gradus_kit_destroy_nothing(void *instance) { (void)instance; }
#define GRADUS_STATELESS_OPTIMIZER(vtable_name, slots_, step_)                                       \
    static int32_t vtable_name##_layout(void *instance, const gradus_state_slot **out, uint32_t *count) { \
        (void)instance; *out = (slots_); *count = GRADUS_COUNT(slots_); return GRADUS_OK;            \
    }                                                                                                 \
    static const gradus_optimizer_vtable vtable_name = {                                             \
        .struct_size = sizeof(gradus_optimizer_vtable), .abi_minor = GRADUS_ABI_MINOR,               \
        .create = gradus_kit_create_stateless, .destroy = gradus_kit_destroy_nothing,                 \
        .state_layout = vtable_name##_layout, .step = (step_) }

/* ---- descriptors ---- */
/* An optimizer strategy with the static hyperparameter array `schema_`. */
#define GRADUS_OPTIMIZER(id_, name_, version_, summary_, reference_, capabilities_, schema_, vtable_)   \
    { .struct_size = sizeof(gradus_strategy_descriptor), .abi_minor = GRADUS_ABI_MINOR,              \
      .kind = GRADUS_KIND_OPTIMIZER, .id = (id_), .display_name = (name_), .version = (version_),    \
      .summary = (summary_), .reference = (reference_), .capabilities = (capabilities_),             \
      .hyperparameters = (schema_), .hyperparameter_count = GRADUS_COUNT(schema_), .vtable = (vtable_) }

/* A library `var_` listing the strategy descriptors given by address. */
#define GRADUS_LIBRARY(var_, name_, vendor_, ...)                                                     \
    static const gradus_strategy_descriptor *const var_##_strategies[] = { __VA_ARGS__ };            \
    static const gradus_library_descriptor var_ = {                                                  \
        sizeof(gradus_library_descriptor), GRADUS_ABI_MINOR, (name_), (vendor_), var_##_strategies,  \
        GRADUS_COUNT(var_##_strategies), 0 }

/* ---- the entry ---- */
/* Answers negotiation for `library`: major 1, min(host minor, this header's), no side effects. */
static inline int32_t gradus_kit_negotiate(const gradus_entry_request *request, gradus_entry_response *response,
                                           const gradus_library_descriptor *library) {
    if (request == NULL || response == NULL || request->abi_major != GRADUS_ABI_MAJOR
        || request->struct_size < sizeof(gradus_entry_request) || response->struct_size < sizeof(gradus_entry_response))
        return GRADUS_ERR_VERSION;
    response->abi_minor = gradus_negotiated_minor(request);
    response->library = library;
    return GRADUS_OK;
}
/* Defines the plugin's one exported symbol, gradus_plugin_entry_v1, for `library`. */
#define GRADUS_DEFINE_ENTRY(library)                                                                 \
    GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response); \
    GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *request, gradus_entry_response *response) { \
        return gradus_kit_negotiate(request, response, &(library));                                  \
    }

#endif /* GRADUS_KIT_H */
