import Dispatch
import Glibc

/// Threads for element-wise plugin loops: GRADUS_NUM_THREADS when set (1 turns threading off),
/// else the online cores. Read once per process.
public let kitThreadCount: Int = {
    if let text = getenv("GRADUS_NUM_THREADS").map({ String(cString: $0) }), let n = Int(text), n >= 1 { return n }
    return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}()

/// Runs `body` over 0..<count split into contiguous, disjoint chunks, on up to `kitThreadCount`
/// threads when there are at least `minimumChunk` elements per thread. Each element is touched
/// by exactly one call, so results are bit-identical for any thread count. Call it from a
/// compute function; `body` must not call host services (they are serialised per instance).
/// For a loop that branches on a setting, call a local `@inline(__always)` function with the
/// setting as a literal (`flag ? run($0, true) : run($0, false)`): each copy then vectorises.
@inlinable @inline(__always)
public func forEachChunk(_ count: Int, minimumChunk: Int = 1 << 18, _ body: (Range<Int>) -> Void) {
    let chunks = min(kitThreadCount, count / max(1, minimumChunk))
    guard chunks > 1 else { body(0..<count); return }
    // Each chunk is disjoint and `body` outlives the call, so sharing it between threads is safe.
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        work((count * c / chunks)..<(count * (c + 1) / chunks))
    }
}

