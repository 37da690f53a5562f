import GradusPluginKit

/// Optimizers that orthogonalize matrix updates (Muon, NorMuon, AuON, ROOT).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-orthogonal", vendor: "gradus", [.optimizer(Muon.self), .optimizer(NorMuon.self), .optimizer(AuON.self), .optimizer(ROOT.self)])
}
