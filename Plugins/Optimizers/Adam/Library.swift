import GradusPluginKit

/// The Adam family's library: one entry point publishes every optimizer of this folder.
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-adam", vendor: "gradus",
                        [.optimizer(Adam.self), .optimizer(AdamW.self), .optimizer(Adamax.self), .optimizer(NAdam.self), .optimizer(RAdam.self),
                         .optimizer(AdaBelief.self), .optimizer(EXAdam.self), .optimizer(Adan.self), .optimizer(OptimisticAMSGrad.self)])
}
