import CGradusABI

/// The host's dense linear algebra for plugins (row-major float32; BLAS and LAPACK live in the host,
/// so a plugin binary bundles neither). Get it from `StepContext.linearAlgebra`.
public struct LinearAlgebra {
    let services: UnsafePointer<gradus_host_services>

    /// C ← α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, C m×n, all row-major and dense.
    public func gemm(_ a: UnsafePointer<Float>, transposeA: Bool = false, _ b: UnsafePointer<Float>, transposeB: Bool = false,
                     into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0) throws {
        guard let gemm = services.pointee.gemm else { throw PluginError.unsupported("the host offers no gemm") }
        let status = gemm(services.pointee.host, transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                          a, Int64(transposeA ? m : k), b, Int64(transposeB ? k : n), beta, c, Int64(n))
        guard status == GRADUS_OK else { throw PluginError.numeric("gemm \(m)×\(k) · \(k)×\(n) failed with status \(status)") }
    }
}

extension StepContext {
    /// The host's linear algebra; an error when the host table lacks it.
    public var linearAlgebra: LinearAlgebra {
        get throws {
            guard let services else { throw PluginError.unsupported("no host services in this step") }
            return LinearAlgebra(services: services)
        }
    }
}
