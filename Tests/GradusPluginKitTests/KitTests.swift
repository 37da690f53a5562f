import Foundation
import GradusPluginKit
import XCTest

/// The Swift plugin kit itself, linked directly: element-wise loops are really split across
/// threads, and typed keys read their defaults when a value is absent.
final class KitTests: XCTestCase {
    func testForEachChunkRunsOnSeveralThreadsAndCoversEveryIndexOnce() throws {
        guard kitThreadCount > 1 else { throw XCTSkip("one core: nothing to split") }
        let count = 1 << 21
        let lock = NSLock()
        var threads: Set<UInt> = []
        // On a loaded machine the calling thread may finish every chunk before a worker wakes:
        // the split is shown when any of a few passes runs on more than one thread; every pass
        // must cover each index exactly once.
        for _ in 0..<20 where threads.count < 2 {
            threads = []
            var covered = [UInt8](repeating: 0, count: count)
            covered.withUnsafeMutableBufferPointer { cells in
                let base = cells.baseAddress!
                forEachChunk(count) { range in
                    lock.lock(); threads.insert(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self()))))); lock.unlock()
                    for i in range { base[i] += 1 }
                }
            }
            XCTAssertTrue(covered.allSatisfy { $0 == 1 }, "every index exactly once")
        }
        XCTAssertGreaterThan(threads.count, 1, "forEachChunk ran every chunk on one thread in 20 passes")
    }
}
