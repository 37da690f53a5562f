import XCTest
import Foundation
@testable import GradusRuntime
import GradusTestSupport

/// The IDX and NPY loaders on files written by numpy and in MNIST's layout
/// (Fixtures/generate_golden.py), and their errors on damaged files.
final class ArrayFileTests: XCTestCase {
    /// The fixture images: pixel k of the 80 is (37·k) mod 256.
    let pixels = (0..<80).map { Float(($0 * 37) % 256) / 255 }

    func testIDXAndNPYGiveTheSameDataset() throws {
        let idx = try Dataset.load(TestSupport.fixturePath("tiny-images-idx3-ubyte"), labels: TestSupport.fixturePath("tiny-labels-idx1-ubyte"))
        let npy = try Dataset.load(TestSupport.fixturePath("tiny_images.npy"), labels: TestSupport.fixturePath("tiny_labels.npy"))
        for d in [idx, npy] {
            XCTAssertEqual(d.features.shape, [5, 16])
            XCTAssertEqual(d.imageShape, [1, 4, 4])
            XCTAssertEqual(d.labels, [3, 0, 2, 1, 3])
            XCTAssertEqual(d.classes, 4)
            XCTAssertEqual(d.features.scalars, pixels, "unsigned bytes are scaled to [0, 1]")
        }
        let be = try Dataset.load(TestSupport.fixturePath("tiny_features_f8_be.npy"), labels: TestSupport.fixturePath("tiny_labels.npy"))
        XCTAssertEqual(be.features.scalars, (0..<10).map { Float($0) / 4 - 1 }, "big-endian float64 read as written")
        XCTAssertNil(be.imageShape)
    }

    func testDamagedFilesAreRefusedInOneLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        let images = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixturePath("tiny-images-idx3-ubyte")))
        let labels = try TestSupport.fixturePath("tiny-labels-idx1-ubyte")
        func message(_ bytes: Data, labels: String? = nil) -> String {
            let path = dir + "/x.bin"
            _ = FileManager.default.createFile(atPath: path, contents: bytes)
            do { _ = try Dataset.load(path, labels: labels); return "no error" } catch { return "\(error)".replacingOccurrences(of: dir, with: "D") }
        }
        XCTAssertEqual(message(Data([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12)), labels: labels),
                       "D/x.bin: shape [4294967295, 4294967295, 4294967295] is too large (over 2^34 elements)")
        XCTAssertEqual(message(images.dropLast(3), labels: labels), "D/x.bin: IDX shape [5, 4, 4] needs 96 bytes, the file has 93")
        XCTAssertEqual(message(Data([0x1f, 0x8b, 8, 0]), labels: labels), "D/x.bin: gzip-compressed; decompress it first (gunzip D/x.bin)")
        XCTAssertEqual(message(Data("hello".utf8), labels: labels), "D/x.bin: not an IDX or NPY file (expected the magic 00 00 <type> <rank> or \\x93NUMPY)")
        XCTAssertEqual(message(Data([0, 0, 0x07, 1, 0, 0, 0, 1, 9]), labels: labels), "D/x.bin: IDX element type 0x7 is not one of 08 09 0B 0C 0D 0E")
        XCTAssertThrowsError(try Dataset.load(dir + "/missing.npy", labels: labels)) {
            XCTAssertEqual("\($0)".replacingOccurrences(of: dir, with: "D"),
                           "dataset=D/missing.npy: no such file (expected 'digits', 'modular_addition[:P]', a .csv file, or an IDX/NPY file with labels=PATH)")
        }
        XCTAssertEqual(message(images), "dataset=D/x.bin: IDX and NPY features need a labels file (set labels=PATH); expected 'digits', a .csv file, or an IDX/NPY file")
        let npy = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixturePath("tiny_images.npy")))
        XCTAssertEqual(message(npy.dropLast(1), labels: labels), "D/x.bin: NPY shape [5, 4, 4] of |u1 needs 208 bytes, the file has 207")
        var fortran = npy
        let flag = try XCTUnwrap(fortran.range(of: Data("'fortran_order': False".utf8)))
        fortran.replaceSubrange(flag, with: Data("'fortran_order': True ".utf8))
        XCTAssertEqual(message(fortran, labels: labels), "D/x.bin: NPY array is in Fortran order; save it with numpy.ascontiguousarray first")
        // Labels that do not match the features.
        let fewLabels = dir + "/few.idx"
        _ = FileManager.default.createFile(atPath: fewLabels, contents: Data([0, 0, 8, 1, 0, 0, 0, 2, 1, 1]))
        XCTAssertEqual(message(images, labels: fewLabels), "D/few.idx: shape [2], expected [5] (one label per row of D/x.bin)")
    }

    func testLeNetReadsIDXImagesFromTheConfiguration() throws {
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("dataset", TestSupport.fixturePath("tiny-images-idx3-ubyte")),
                                      ("labels", TestSupport.fixturePath("tiny-labels-idx1-ubyte")),
                                      ("model.arch", "lenet"), ("model.channels", "2"), ("model.hidden", "4"),
                                      ("test_fraction", "0.4"), ("batch_size", "2"), ("epochs", "1")], to: &cfg)
        let trainer = try Trainer(config: cfg, registry: TestSupport.builtinRegistry())
        XCTAssertEqual(trainer.model.parameters.map(\.shape), [[2, 1, 3, 3], [2], [4, 8], [4], [4, 4], [4]])
        XCTAssertNotNil(try trainer.run())
    }
}
