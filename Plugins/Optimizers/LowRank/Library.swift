import GradusPluginKit

/// Optimizers that keep state in a projected low-rank or rotated basis (Conda, DCT-Adam, Subspace-Momentum).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-low-rank", vendor: "gradus", [.optimizer(Conda.self), .optimizer(SubspaceMomentum.self), .optimizer(DCTAdam.self)])
}
