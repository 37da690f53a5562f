import GradusPluginKit

/// Magnitude pruning: scores are |w|; the host removes the lowest until the target
/// sparsity is reached, per layer or with one global threshold.
struct MagnitudePruner: PrunerPlugin {
    static let info = StrategyInfo(id: "gradus.magnitude", displayName: "Magnitude pruning", version: "1.0.0",
                                   summary: "Unstructured |w| pruning to a target sparsity, layer-wise or global (round(s·n), ties by index)",
                                   reference: "torch.nn.utils.prune.l1_unstructured / global_unstructured")
    static let hyperparameters: [Hyperparameter] = [
        .real("sparsity", default: 0.5, min: 0, max: 1, flags: [.schedulable], doc: "target fraction of zeros"),
        .choice("scope", values: ["layer", "global"], default: "layer", doc: "one threshold per tensor, or one over all tensors"),
    ]
    let scope: PruneScope

    init(_ hp: HyperparameterValues) throws { scope = hp.choice("scope") == "global" ? .global : .layer }

    func score(_ targets: [PruneTarget], _ context: PruneContext) throws -> PrunePlan {
        for t in targets {
            for i in 0..<t.weight.count { t.scores[i] = abs(t.weight[i]) }
        }
        return PrunePlan(sparsity: context.hyperparameters.real("sparsity"), scope: scope)
    }
}

let library = GradusLibrary(name: "gradus-magnitude", vendor: "gradus", strategies: [.pruner(MagnitudePruner.self)])

/// The library's only export: negotiation (see gradus/entry.h).
@_cdecl("gradus_plugin_entry_v1")
public func gradusPluginEntryV1(_ request: UnsafePointer<gradus_entry_request>?, _ response: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
    library.negotiate(request, response)
}
