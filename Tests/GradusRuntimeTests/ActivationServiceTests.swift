import XCTest
@testable import GradusRuntime
import GradusCore
import GradusNN
import CGradusABI

/// The activation service: a C optimizer that declares needs_activations reads each layer's
/// input, output and output gradient, recorded by forward hooks during the step.
final class ActivationServiceTests: XCTestCase {
    static let probe = """
    #include <gradus/gradus.h>
    static int token;
    static const gradus_state_slot slots[] = {
        { sizeof(gradus_state_slot), 0, "input_sum", GRADUS_SLOT_SCALAR, 0, 0.0 },
        { sizeof(gradus_state_slot), 0, "output_sum", GRADUS_SLOT_SCALAR, 0, 0.0 },
        { sizeof(gradus_state_slot), 0, "output_grad_sum", GRADUS_SLOT_SCALAR, 0, 0.0 },
        { sizeof(gradus_state_slot), 0, "rows", GRADUS_SLOT_SCALAR, 0, 0.0 },
        { sizeof(gradus_state_slot), 0, "unknown_status", GRADUS_SLOT_SCALAR, 0, 0.0 },
    };
    static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
        (void)s; (void)h; (void)hp; *out = &token; return GRADUS_OK; }
    static void destroy(void *i) { (void)i; }
    static int32_t layout(void *i, const gradus_state_slot **s, uint32_t *n) { (void)i; *s = slots; *n = 5; return GRADUS_OK; }
    static double sum(const gradus_tensor_view *v) { double s = 0; for (int64_t i = 0; i < v->count; i++) s += v->data[i]; return s; }
    static int32_t step(void *i, const gradus_step_context *c, const gradus_param_group *g) {
        (void)i;
        const gradus_host_services *h = c->services;
        gradus_tensor_view in, out, grad, none;
        int32_t st = h->activation(c->run, "layers.0", GRADUS_ACTIVATION_INPUT, &in);
        if (!st) st = h->activation(c->run, "layers.1", GRADUS_ACTIVATION_OUTPUT, &out);
        if (!st) st = h->activation(c->run, "layers.2", GRADUS_ACTIVATION_OUTPUT_GRAD, &grad);
        if (st) return st;
        int32_t unknown = h->activation(c->run, "layers.9", GRADUS_ACTIVATION_INPUT, &none);
        for (uint32_t k = 0; k < g->count; k++) {
            const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, k);
            p->slots[0]->data[0] = (float)sum(&in);
            p->slots[1]->data[0] = (float)sum(&out);
            p->slots[2]->data[0] = (float)sum(&grad);
            p->slots[3]->data[0] = (float)in.shape[0];
            p->slots[4]->data[0] = (float)unknown;
        }
        return GRADUS_OK;
    }
    static const gradus_optimizer_vtable vt = { sizeof(gradus_optimizer_vtable), 0, create, destroy, layout, step, NULL, NULL };
    static const gradus_strategy_descriptor d = { sizeof(gradus_strategy_descriptor), 0, GRADUS_KIND_OPTIMIZER, 0,
        "test.activations", "Activation probe", "1.0.0", "records layer activations", NULL,
        GRADUS_CAP_NEEDS_ACTIVATIONS, NULL, 0, 0, &vt };
    static const gradus_strategy_descriptor *const list[] = { &d };
    static const gradus_library_descriptor lib = { sizeof(gradus_library_descriptor), 0, "activations", NULL, list, 1, 0 };
    GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r);
    GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r) {
        r->abi_minor = gradus_negotiated_minor(q); r->library = &lib; return GRADUS_OK; }
    """

    func testOptimizersReadLayerActivationsAndOutputGradients() throws {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.compileC(Self.probe, to: dir + "/probe.so")
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [dir]
        search.builtinFolders = []
        var cfg = TrainConfig()
        cfg.optimizer = "test.activations"
        cfg.hidden = [16]
        let trainer = try Trainer(config: cfg, registry: PluginRegistry(search: search))
        let rows = Array(0..<32)[...]
        _ = try trainer.step(rows)

        // What the hooks should have seen: layers.0 = Linear, layers.1 = ReLU, layers.2 = head.
        let (x, y) = trainer.train.batch(rows)
        let b = ParameterBindings(trainer.model.parameters)
        let hidden = try trainer.model.layers[0].forward(Variable(x), b, mode: .train)
        let relu = try trainer.model.layers[1].forward(hidden, b, mode: .train)
        let logits = try trainer.model.layers[2].forward(relu, b, mode: .train)
        let dLogits = Autodiff.gradients(of: crossEntropy(logits: logits, labels: y), wrt: [logits])[0].value
        func sum(_ t: Tensor) -> Float { Float(t.scalars.reduce(0.0) { $0 + Double($1) }) }
        let slot = { (name: String) in trainer.optimizer.slot(name, of: 0)!.values[0] }
        XCTAssertEqual(slot("input_sum"), sum(x))
        XCTAssertEqual(slot("output_sum"), sum(relu.value))
        XCTAssertEqual(slot("output_grad_sum"), sum(dLogits))
        XCTAssertEqual(slot("rows"), 32)
        XCTAssertEqual(slot("unknown_status"), Float(GRADUS_ERR_INVALID_ARGUMENT), "an unknown module is an error, not a crash")
    }
}
