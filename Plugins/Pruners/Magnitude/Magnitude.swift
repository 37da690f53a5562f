import GradusPluginKit

/// Magnitude pruning: scores are |w|; the host removes the lowest until the target
/// sparsity is reached, per layer or with one global threshold.
struct MagnitudePruner: PrunerPlugin {
    static let info = StrategyInfo(id: "gradus.magnitude", displayName: "Magnitude pruning", version: "1.0.0",
                                   summary: "Unstructured |w| pruning to a target sparsity, layer-wise or global (round(s·n), ties by index)",
                                   reference: "torch.nn.utils.prune.l1_unstructured / global_unstructured")
    static let sparsity = Real("sparsity", default: 0.5, min: 0, max: 1, flags: [.schedulable], doc: "target fraction of zeros")
    static let scope = Choice("scope", values: ["layer", "global"], default: "layer", doc: "one threshold per tensor, or one over all tensors")
    static let hyperparameters = schema(sparsity, scope)

    let scope: PruneScope
    init(_ hp: HyperparameterValues) throws { scope = hp[Self.scope] == "global" ? .global : .layer }

    func score(_ targets: [PruneTarget], _ context: PruneContext) throws -> PrunePlan {
        for t in targets {
            for i in 0..<t.weight.count { t.scores[i] = abs(t.weight[i]) }
        }
        return PrunePlan(sparsity: context.hyperparameters[Self.sparsity], scope: scope)
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "gradus-magnitude", vendor: "gradus", [.pruner(MagnitudePruner.self)]) }
