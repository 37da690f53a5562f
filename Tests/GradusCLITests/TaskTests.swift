import Foundation
import XCTest
@testable import GradusRuntime
import GradusTestSupport
import GradusNN
import GradusCore

/// Built-in tasks and the transformer through `gradus train`: the modular-addition data, a
/// transformer that learns it, its checkpoints, and the presets in `tasks`, `train` and `compare`.
final class TaskTests: XCTestCase {
    var gradus: String { TestSupport.buildDirectory + "/gradus" }
    var environment: [String: String] { BadInputTests.environment() }

    func testModularAdditionHoldsEveryPairOnce() throws {
        let data = try Dataset.load("modular_addition:7", labels: nil)
        XCTAssertEqual(data.count, 49)
        XCTAssertEqual(data.vocabulary, 8, "residues 0...6 and '='")
        XCTAssertNil(data.imageShape)
        let rows = data.features.scalars
        var seen = Set<[Int]>()
        for i in 0..<49 {
            let (a, b, eq) = (Int(rows[3 * i]), Int(rows[3 * i + 1]), Int(rows[3 * i + 2]))
            XCTAssertEqual(eq, 7)
            XCTAssertEqual(data.labels[i], (a + b) % 7)
            seen.insert([a, b])
        }
        XCTAssertEqual(seen.count, 49)
        XCTAssertEqual(try Dataset.load("modular_addition", labels: nil).count, 97 * 97)
        // Token ids are never standardised, whatever `normalize` says.
        var config = TrainConfig()
        config.dataset = "modular_addition:7"
        let (train, test) = try Trainer.loadData(config)
        XCTAssertEqual(train.count + test.count, 49)
        XCTAssertTrue((train.features.scalars + test.features.scalars).allSatisfy { $0 == $0.rounded() && $0 >= 0 && $0 <= 7 })
    }

    /// A small transformer fits modular addition mod 11 well below chance (ln 11 ≈ 2.40 for a
    /// uniform guess over the answers) in every norm placement: pre-LN without a normalizer, and
    /// LayerNorm in the Peri-LN and post-LN slots. (Forward and backward against PyTorch are
    /// TransformerTests; this is the trainer around it.)
    func testTheTransformerLearnsModularAddition() throws {
        for (extra, bound) in [([String](), 1.2), (["--set", "normalizer=layernorm", "--set", "model.norm_placement=peri"], 1.9),
                               (["--set", "normalizer=layernorm", "--set", "model.norm_placement=post"], 2.1)] {
            let (status, out, err) = try TestSupport.run(gradus, ["train", "--task", "modular_addition", "--set", "dataset=modular_addition:11",
                                                                 "--set", "test_fraction=0.2", "--set", "model.d_model=32", "--set", "model.heads=2",
                                                                 "--set", "optimizer.lr=0.01", "--set", "optimizer.weight_decay=0",
                                                                 "--set", "batch_size=16", "--set", "epochs=60"] + extra, environment: environment)
            XCTAssertEqual(status, 0, err)
            let losses = out.split(separator: "\n").compactMap { line in
                line.components(separatedBy: "\"train_loss\": ").last?.split(separator: ",").first.flatMap { Double($0) }
            }
            XCTAssertEqual(losses.count, 60)
            XCTAssertGreaterThan(losses.first!, 2.2, "\(extra) starts near chance")
            XCTAssertLessThan(losses.last!, bound, "\(extra): \(losses.suffix(3))")
            XCTAssertTrue(out.contains("on modular_addition:11, 60 epochs"), out)
        }
    }

    /// A transformer run resumed from a mid-run checkpoint ends bit-identical to one that never stopped.
    func testATransformerRunResumesExactly() throws {
        let dir = try TestSupport.temporaryDirectory()
        let base = ["--task", "modular_addition", "--set", "dataset=modular_addition:7", "--set", "model.d_model=16", "--set", "model.heads=2",
                    "--set", "normalizer=layernorm", "--set", "batch_size=8"]
        let (s1, straight, e1) = try TestSupport.run(gradus, ["train"] + base + ["--set", "epochs=3"], environment: environment)
        XCTAssertEqual(s1, 0, e1)
        let (s2, _, e2) = try TestSupport.run(gradus, ["train"] + base + ["--set", "epochs=2", "--checkpoint", dir + "/c.safetensors"], environment: environment)
        XCTAssertEqual(s2, 0, e2)
        let (s3, resumed, e3) = try TestSupport.run(gradus, ["train", "--resume", dir + "/c.safetensors", "--set", "epochs=3"], environment: environment)
        XCTAssertEqual(s3, 0, e3)
        func figures(_ out: String) -> [String] {
            out.split(separator: "\n").map { $0.replacingOccurrences(of: #""train_seconds": [^,]*, "seconds": [^}]*"#, with: "", options: .regularExpression) }
        }
        XCTAssertEqual(figures(resumed).suffix(2), figures(straight).suffix(2))
    }

    func testTasksAreListedAndPresetsStayWithTheirCommand() throws {
        let (status, out, err) = try TestSupport.run(gradus, ["tasks", "--json"], environment: environment)
        XCTAssertEqual(status, 0, err)
        let names = out.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["name"] as? String }
        XCTAssertEqual(names, ["digits-mlp", "digits-lenet", "digits-resnet", "modular_addition"])
        // compare takes the task's data and model, not its optimizer settings.
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let (compared, _, compareErr) = try TestSupport.run(gradus, ["compare", "--optimizer", "sgd", "--task", "modular_addition", "--set", "dataset=modular_addition:5",
                                                                      "--set", "epochs=1", "--set", "model.d_model=8", "--seeds", "1", "--out", dir, "--no-report"],
                                                             environment: environment)
        XCTAssertEqual(compared, 0, compareErr)
        let db = try ExperimentDatabase(path: dir + "/runs.sqlite")
        let run = try XCTUnwrap(try db.runs().first)
        XCTAssertEqual(run.status, "finished", run.failure ?? "")
        let config = try XCTUnwrap(try db.connection.query("SELECT config FROM runs WHERE id = \(run.id)").first?.first?.string)
        XCTAssertTrue(config.contains("\"model.arch\": \"transformer\"") && config.contains("\"optimizer\": \"sgd\""), config)
        XCTAssertFalse(config.contains("optimizer.weight_decay"), config)
    }

    /// The ResNet preset reaches its target on digits (BatchNorm in its slots).
    func testTheResNetReachesItsTargetOnDigits() throws {
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--task", "digits-resnet", "--set", "epochs=10"], environment: environment)
        XCTAssertEqual(status, 0, err)
        let last = try XCTUnwrap(out.split(separator: "\n").last.map(String.init))
        let accuracy = try XCTUnwrap(Double(last.split(separator: " ")[2]))
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, last)
    }

    /// With ReZero gates every residual block starts as relu(shortcut(x)): the branch is scaled by
    /// a learned scalar that is 0 at start, and still receives a gradient through it.
    func testReZeroBlocksStartAsTheirShortcut() throws {
        let model = try Sequential.resnet(image: [1, 8, 8], channels: [4, 6], blocks: 2, classes: 10, seed: 3, rezero: true)
        let gates = model.parameters.filter { $0.name.hasSuffix(".gate") }
        XCTAssertEqual(gates.count, 4)
        XCTAssertTrue(gates.allSatisfy { $0.value.scalars == [0] })
        var rng = RandomStream(seed: 9, stream: "x")
        let x = Variable(Tensor(shape: [2, 4, 8, 8], scalars: (0..<512).map { _ in rng.normal() }))
        let bindings = ParameterBindings(model.parameters)
        let identityBlocks = model.layers.compactMap { $0 as? ResidualBlock }.filter { $0.projection == nil && $0.conv1.weight.shape[1] == 4 }
        XCTAssertEqual(identityBlocks.count, 2, "the first stage's two blocks")
        for block in identityBlocks {
            let y = try block.forward(x, bindings, mode: .train)
            XCTAssertEqual(y.value.scalars, x.relu().value.scalars, "an identity-shortcut block is relu(x) at start")
        }
        let images = Variable(Tensor(shape: [2, 64], scalars: (0..<128).map { _ in rng.normal() }))
        let loss = crossEntropy(logits: try model.forward(images, bindings, mode: .train), labels: [3, 7])
        let grads = Autodiff.gradients(of: loss, wrt: bindings.variables)
        for (p, g) in zip(model.parameters, grads) where p.name.hasSuffix(".gate") {
            XCTAssertNotEqual(g.value.scalars[0], 0, "\(p.name) learns")
        }
    }
}
