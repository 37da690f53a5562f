import CGradusABI
import Foundation
import GradusCore

/// What the host knows about the current step, behind a `gradus_run_handle`.
/// Runs with an autodiff model answer the services; a trace on a test function
/// answers the loss only.
open class RunContext {
    public init() {}
    var handle: gradus_run_handle { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }
    static func from(_ h: gradus_run_handle?) -> RunContext? {
        h.map { Unmanaged<RunContext>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
    open func loss(_ out: UnsafeMutablePointer<Double>?) -> Int32 { unsupported("loss") }
    open func hessianVectorProduct(_ v: UnsafePointer<UnsafePointer<Float>?>?, _ out: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ n: UInt32) -> Int32 {
        unsupported("hessian_vector_product")
    }
    open func evaluate(_ p: UnsafePointer<UnsafePointer<Float>?>?, _ n: UInt32, _ loss: UnsafeMutablePointer<Double>?, _ grads: UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Int32 {
        unsupported("evaluate_at")
    }
    open func activation(_ module: UnsafePointer<CChar>?, _ which: Int32, _ out: UnsafeMutablePointer<gradus_tensor_view>?) -> Int32 {
        unsupported("activation")
    }
}
