import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// What a pruner sees during `gradus train`: the run's length in steps (not 0), the host's
/// logging service, and a sparsity that the host's ramp writes into its `sparsity` value.
final class PrunerContextTests: XCTestCase {
    static let probe = """
        #include <gradus/kit.h>
        #include <stdio.h>
        static int token;
        static const gradus_hyperparameter schema[] = { GRADUS_REAL("sparsity", "target", 0.5, 0, 1, GRADUS_HP_SCHEDULABLE) };
        static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
            (void)s; (void)h; (void)hp; *out = &token; return GRADUS_OK; }
        static void destroy(void *i) { (void)i; }
        static int32_t score(void *i, const gradus_prune_context *c, const gradus_prune_target *t, uint32_t n, gradus_prune_plan *plan) {
            (void)i;
            char line[128];
            double sparsity = gradus_hp(c->hyperparameters, 0)->f64;
            snprintf(line, sizeof line, "step=%lld total_steps=%lld sparsity=%.4f", (long long)c->step, (long long)c->total_steps, sparsity);
            c->services->log(c->services->host, GRADUS_LOG_INFO, "acme.probe_pruner", line);
            for (uint32_t k = 0; k < n; k++) {
                const gradus_prune_target *x = GRADUS_ARRAY_AT(const gradus_prune_target, t, k);
                for (int64_t e = 0; e < x->weight->count; e++) x->scores->data[e] = x->weight->data[e] < 0 ? -x->weight->data[e] : x->weight->data[e];
            }
            plan->sparsity = sparsity; plan->scope = GRADUS_PRUNE_SCOPE_LAYER; plan->skip = 0;
            return GRADUS_OK;
        }
        static const gradus_pruner_vtable vt = { sizeof(gradus_pruner_vtable), GRADUS_ABI_MINOR, create, destroy, score, NULL, NULL };
        static const gradus_strategy_descriptor d = { .struct_size = sizeof(gradus_strategy_descriptor), .abi_minor = GRADUS_ABI_MINOR,
            .kind = GRADUS_KIND_PRUNER, .id = "acme.probe_pruner", .display_name = "Probe", .version = "1.0.0", .summary = "logs its context",
            .hyperparameters = schema, .hyperparameter_count = 1, .vtable = &vt };
        GRADUS_LIBRARY(library, "probe-pruner", "acme", &d);
        GRADUS_DEFINE_ENTRY(library)
        """

    func testTrainingGivesPrunersTheRunLengthLoggingAndTheRampedSparsity() throws {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.compileC(PrunerContextTests.probe, to: dir + "/probe.so")
        let (status, _, err) = try TestSupport.run(TestSupport.buildDirectory + "/gradus", [
            "train", "--plugin", dir + "/probe.so", "--set", "pruner=acme.probe_pruner", "--set", "pruner.sparsity=0.8",
            "--set", "epochs=2", "--set", "prune_end_epoch=2"], environment: BadInputTests.environment())
        XCTAssertEqual(status, 0, err)
        // 1437 training rows in batches of 64: 23 steps per epoch, 46 in the run; the cubic ramp
        // reaches 0.8·(1 − (1 − 1/2)³) = 0.7 after epoch 1 and 0.8 after epoch 2.
        XCTAssertEqual(err, "info: acme.probe_pruner: step=23 total_steps=46 sparsity=0.7000\ninfo: acme.probe_pruner: step=46 total_steps=46 sparsity=0.8000\n")
    }
}
