import CGradusABI
import Foundation
import GradusCore

/// The last error a plugin reported on this thread through `set_error`.
final class PluginErrorSlot: @unchecked Sendable {
    static let shared = PluginErrorSlot()
    private let lock = NSLock()
    private var messages: [pthread_t: (Int32, String)] = [:]

    func set(_ status: Int32, _ message: String) { lock.withLock { messages[pthread_self()] = (status, message) } }
    /// Takes (and clears) this thread's message.
    func take() -> String? { lock.withLock { messages.removeValue(forKey: pthread_self())?.1 } }
}

/// The host services table (gradus/host.h), built once; it lives for the whole process,
/// as plugins may keep the pointer for as long as they are loaded.
public enum HostServices {
    public static let table: UnsafePointer<gradus_host_services> = {
        var s = gradus_host_services()
        ABIWrite.header(&s)
        s.host = nil
        s.log = { _, level, pluginID, message in
            guard level >= HostLog.shared.minimumLevel else { return }
            let names = ["debug", "info", "warning", "error"]
            let name = (0...3).contains(level) ? names[Int(level)] : "log"
            let id = pluginID.map { String(cString: $0) } ?? "plugin"
            HostLog.shared.write("\(name): \(id): \(message.map { String(cString: $0) } ?? "")")
        }
        s.set_error = { _, status, message in
            PluginErrorSlot.shared.set(status, message.map { String(cString: $0) } ?? "(no message)")
        }
        s.alloc = { _, size, alignment in
            let align = alignment == 0 ? 64 : Int(alignment)
            guard align >= 16, align & (align - 1) == 0, size < UInt64(Int.max) else { return nil }
            var p: UnsafeMutableRawPointer?
            return posix_memalign(&p, align, Int(max(size, 1))) == 0 ? p : nil
        }
        s.free = { _, p in Glibc.free(p) }
        s.rng_next_u64 = { h in HostRandomStream.from(h)?.stream.next() ?? 0 }
        s.rng_uniform = { h, out, n in
            guard let r = HostRandomStream.from(h), let out else { return }
            for i in 0..<Int(n) { out[i] = r.stream.uniform() }
        }
        s.rng_normal = { h, out, n in
            guard let r = HostRandomStream.from(h), let out else { return }
            for i in 0..<Int(n) { out[i] = r.stream.normal() }
        }
        s.svd = { _, m, n, a, u, sv, vt in
            linalg("svd") {
                guard let a, let u, let sv, let vt else { throw LAPACK.Failure(description: "svd: NULL buffer") }
                try LAPACK.svd(a, m: try size(m), n: try size(n), u: u, s: sv, vt: vt)
            }
        }
        s.sym_eig = { _, n, a, w, v in
            linalg("sym_eig") {
                guard let a, let w, let v else { throw LAPACK.Failure(description: "sym_eig: NULL buffer") }
                try LAPACK.symmetricEigen(a, n: try size(n), w: w, v: v)
            }
        }
        s.qr = { _, m, n, a, q, r in
            linalg("qr") {
                guard let a, let q, let r else { throw LAPACK.Failure(description: "qr: NULL buffer") }
                try LAPACK.qr(a, m: try size(m), n: try size(n), q: q, r: r)
            }
        }
        s.cholesky = { _, n, a, l in
            linalg("cholesky") {
                guard let a, let l else { throw LAPACK.Failure(description: "cholesky: NULL buffer") }
                try LAPACK.cholesky(a, n: try size(n), l: l)
            }
        }
        s.triangular_solve = { _, lower, transpose, n, nrhs, t, b in
            linalg("triangular_solve") {
                guard let t, let b else { throw LAPACK.Failure(description: "triangular_solve: NULL buffer") }
                try LAPACK.solveTriangular(t, n: try size(n), lower: lower != 0, transpose: transpose != 0, b: b, nrhs: try size(nrhs))
            }
        }
        s.gemm = { _, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            guard let a, let b, let c, ta == 0 || ta == 1, tb == 0 || tb == 1,
                  BLAS.validGemmShape(transposeA: ta == 1, transposeB: tb == 1, m: Int(m), n: Int(n), k: Int(k),
                                      lda: Int(lda), ldb: Int(ldb), ldc: Int(ldc)) else {
                PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "gemm: invalid sizes or NULL buffers")
                return GRADUS_ERR_INVALID_ARGUMENT
            }
            BLAS.gemm(transposeA: ta == 1, transposeB: tb == 1, m: Int(m), n: Int(n), k: Int(k), alpha: alpha,
                      a: a, lda: Int(lda), b: b, ldb: Int(ldb), beta: beta, c: c, ldc: Int(ldc))
            return GRADUS_OK
        }
        // Autodiff services: answered by the run (RunContext) that owns the handle.
        s.loss = { run, out in RunContext.from(run)?.loss(out) ?? unsupported("loss") }
        s.hessian_vector_product = { run, v, out, count in
            RunContext.from(run)?.hessianVectorProduct(v, out, count) ?? unsupported("hessian_vector_product")
        }
        s.evaluate_at = { run, params, count, loss, grads in
            RunContext.from(run)?.evaluate(params, count, loss, grads) ?? unsupported("evaluate_at")
        }
        s.activation = { run, module, which, out in
            RunContext.from(run)?.activation(module, which, out) ?? unsupported("activation")
        }
        s.graph_op = HostGraph.service
        let p = UnsafeMutablePointer<gradus_host_services>.allocate(capacity: 1)
        p.initialize(to: s)
        return UnsafePointer(p)
    }()
}

/// Reports an unsupported service through the error slot.
func unsupported(_ service: String) -> Int32 {
    PluginErrorSlot.shared.set(GRADUS_ERR_UNSUPPORTED, "the host does not support '\(service)' in this run")
    return GRADUS_ERR_UNSUPPORTED
}

/// Runs a linear-algebra service: a size or NULL problem is GRADUS_ERR_INVALID_ARGUMENT, a numeric
/// failure GRADUS_ERR_NUMERIC, each with its message for the plugin's error.
private func linalg(_ name: String, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return GRADUS_OK
    } catch let failure as LAPACK.Failure {
        let status = failure.numeric ? GRADUS_ERR_NUMERIC : GRADUS_ERR_INVALID_ARGUMENT
        PluginErrorSlot.shared.set(status, failure.description)
        return status
    } catch {
        PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "\(name): \(error)")
        return GRADUS_ERR_INVALID_ARGUMENT
    }
}

/// A size from a plugin: positive and within Int32 (LAPACK's index type).
private func size(_ n: Int64) throws -> Int {
    guard n > 0, n <= Int64(Int32.max) else { throw LAPACK.Failure(description: "size \(n) is not in 1...\(Int32.max)") }
    return Int(n)
}
