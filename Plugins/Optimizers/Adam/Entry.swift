import GradusPluginKit

let library = GradusLibrary(name: "gradus-adam", vendor: "gradus", strategies: [.optimizer(Adam.self)])

/// The library's only export: negotiation (see gradus/entry.h).
@_cdecl("gradus_plugin_entry_v1")
public func gradusPluginEntryV1(_ request: UnsafePointer<gradus_entry_request>?, _ response: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
    library.negotiate(request, response)
}
