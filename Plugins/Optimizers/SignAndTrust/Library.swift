import GradusPluginKit

/// Sign-based and trust-ratio optimizers (Rprop, Lion, LAMB, LARS, AdamP, SGDP).
@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-sign-and-trust", vendor: "gradus",
                        [.optimizer(Rprop.self), .optimizer(Lion.self), .optimizer(LAMB.self), .optimizer(LARS.self),
                         .optimizer(AdamP.self), .optimizer(SGDP.self)])
}
