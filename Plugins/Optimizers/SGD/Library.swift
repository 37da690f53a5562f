import GradusPluginKit

/// Plain gradient-descent methods (SGD with momentum, Normalized LR+GD).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-sgd", vendor: "gradus", [.optimizer(SGD.self), .optimizer(NormalizedGD.self)])
}
