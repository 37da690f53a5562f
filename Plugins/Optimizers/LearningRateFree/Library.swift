import GradusPluginKit

/// Learning-rate-free optimizers (DoG, L-DoG, Prodigy, D-Adaptation Adam).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-learning-rate-free", vendor: "gradus",
                        [.optimizer(DoG.self), .optimizer(LDoG.self), .optimizer(Prodigy.self), .optimizer(DAdaptAdam.self)])
}
