import GradusPluginKit

let library = GradusLibrary(name: "gradus-sgd", vendor: "gradus", strategies: [.optimizer(SGD.self)])

/// The library's only export: negotiation (see gradus/entry.h).
@_cdecl("gradus_plugin_entry_v1")
public func gradusPluginEntryV1(_ request: UnsafePointer<gradus_entry_request>?, _ response: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
    library.negotiate(request, response)
}
