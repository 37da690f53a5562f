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
        var covered = [UInt8](repeating: 0, count: count)
        covered.withUnsafeMutableBufferPointer { cells in
            let base = cells.baseAddress!
            forEachChunk(count) { range in
                lock.lock(); threads.insert(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self()))))); lock.unlock()
                for i in range { base[i] += 1 }
            }
        }
        XCTAssertGreaterThan(threads.count, 1, "forEachChunk ran every chunk on one thread")
        XCTAssertTrue(covered.allSatisfy { $0 == 1 }, "every index exactly once")
    }
}
