import GradusPluginKit

/// The second-moment family's library (AdaGrad, RMSprop, Adafactor, Subset-Norm).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-second-moment", vendor: "gradus",
                        [.optimizer(Adagrad.self), .optimizer(RMSprop.self), .optimizer(Adafactor.self), .optimizer(SubsetNorm.self)])
}
