import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The magnitude pruner's masks on hand-made tensors, and the host's mask application.
final class MagnitudePrunerTests: XCTestCase {
    func pruner(_ settings: [(String, String)], _ targets: [HostParameter]) throws -> PruningSession {
        let s = try TestSupport.builtinRegistry().require("magnitude", kind: .pruner)
        return try PruningSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, overrides: settings, owner: s.id),
                                  targets: targets)
    }

    func testLayerwiseMasksPruneSmallestMagnitudesPerTensor() throws {
        let a = HostParameter(name: "a", role: .matrix, shape: [2, 3], values: [0.5, -0.1, 3, -2, 0.2, 0.05])
        let b = HostParameter(name: "b", role: .matrix, shape: [4], values: [10, 20, -30, 40])
        let p = try pruner([("sparsity", "0.5")], [a, b])
        try p.prune()
        XCTAssertEqual(p.masks[0].values, [1, 0, 1, 1, 0, 0])   // 3 of 6: |0.05|, |-0.1|, |0.2|
        XCTAssertEqual(p.masks[1].values, [0, 0, 1, 1])         // 2 of 4
        XCTAssertEqual(a.value.values, [0.5, 0, 3, -2, 0, 0])
        XCTAssertEqual(b.value.values, [0, 0, -30, 40])
    }

    func testGlobalMasksUseOneThreshold() throws {
        let a = HostParameter(name: "a", role: .matrix, shape: [2, 3], values: [0.5, -0.1, 3, -2, 0.2, 0.05])
        let b = HostParameter(name: "b", role: .matrix, shape: [4], values: [10, 20, -30, 40])
        let p = try pruner([("sparsity", "0.5"), ("scope", "global")], [a, b])
        try p.prune()
        XCTAssertEqual(p.masks[0].values, [0, 0, 1, 0, 0, 0])   // the 5 smallest of all 10: 0.05, 0.1, 0.2, 0.5, 2
        XCTAssertEqual(p.masks[1].values, [1, 1, 1, 1])
        XCTAssertEqual(p.sparsity, 0.5)
    }

    func testRoundingIsHalfToEvenAndTiesGoByIndex() throws {
        XCTAssertEqual(PruningSession.pruneCount(sparsity: 0.5, count: 5), 2)   // round(2.5) = 2
        XCTAssertEqual(PruningSession.pruneCount(sparsity: 0.5, count: 7), 4)   // round(3.5) = 4
        XCTAssertEqual(PruningSession.pruneCount(sparsity: 0.3, count: 10), 3)
        let t = HostParameter(name: "t", role: .matrix, shape: [6], values: [1, -1, 1, 2, -1, 2])
        let p = try pruner([("sparsity", "0.5")], [t])
        try p.prune()
        XCTAssertEqual(p.masks[0].values, [0, 0, 0, 1, 1, 1], "equal scores: the lower flat index is pruned first")
    }

    func testRepeatedPruningKeepsPrunedEntriesAndReachesTheTarget() throws {
        let t = HostParameter(name: "t", role: .matrix, shape: [5], values: [1, 2, 3, 4, 5])
        let p = try pruner([("sparsity", "0.4")], [t])
        try p.prune()
        XCTAssertEqual(p.masks[0].values, [0, 0, 1, 1, 1])
        t.value.values = [9, 9, 0.1, 4, 5]   // an optimizer would never resurrect them; the host keeps them masked anyway
        try p.prune()
        XCTAssertEqual(p.masks[0].values, [0, 0, 1, 1, 1], "already-pruned entries count toward the 40%")
        XCTAssertEqual(t.value.values, [0, 0, 0.1, 4, 5])
    }

    func testMasksApplyToGradientsAndOptimizerState() throws {
        let registry = TestSupport.builtinRegistry()
        let w = HostParameter(name: "w", role: .matrix, shape: [4], values: [0.1, -2, 0.3, 4])
        let p = try pruner([("sparsity", "0.5")], [w])
        try p.prune()
        let sgd = try registry.require("sgd", kind: .optimizer)
        let opt = try OptimizerSession(strategy: sgd, hyperparameters: HyperparameterSet(
            schema: sgd.hyperparameters, overrides: [("lr", "0.1"), ("momentum", "0.9"), ("weight_decay", "0.1")], owner: "sgd"),
                                       parameters: [w])
        for _ in 0..<3 {
            w.grad.values = [1, 1, 1, 1]
            p.applyToGradients()
            try opt.step()
            p.applyToWeights()
            p.applyToState(of: opt)
            XCTAssertEqual([w.value.values[0], w.value.values[2]], [0, 0])
            XCTAssertEqual(opt.slot("momentum_buffer", of: 0)!.values[0], 0)
        }
        XCTAssertNotEqual(w.value.values[1], -2)
    }

    func testSparsityOutOfRangeIsRejected() throws {
        XCTAssertThrowsError(try pruner([("sparsity", "1.5")], [])) {
            XCTAssertEqual("\($0)", "gradus.magnitude: sparsity=1.5 is out of range (expected [0, 1])")
        }
    }
}
