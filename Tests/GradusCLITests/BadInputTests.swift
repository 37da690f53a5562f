import Foundation
import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// Every class of bad input a user can give `gradus`, tried through the binary as a user would:
/// each case must end with exit status 1, exactly one line on stderr starting "gradus: error: "
/// that contains the expected text, no trap or backtrace, and every file that existed before
/// byte-identical afterwards. To cover a new class, add a `Case` to `cases`.
final class BadInputTests: XCTestCase {
    struct Case {
        let inputClass: String
        let arguments: [String]
        let expected: String
        /// Makes the files the case needs in the scratch folder (its path replaces "DIR" in arguments).
        var setup: (String) throws -> Void = { _ in }
    }

    static var gradus: String { TestSupport.buildDirectory + "/gradus" }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: false, encoding: .utf8) }
    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// A safetensors file with this JSON header (padded), followed by `data` bytes.
    static func safetensors(_ header: String, data: Int = 0) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + [UInt8](repeating: 0, count: data)
    }

    /// A real one-epoch checkpoint (and a mid-epoch one, after 5 steps), made once per test run.
    static let checkpoints: (epoch: String, mid: String) = {
        let dir = try! TestSupport.temporaryDirectory()
        let epoch = dir + "/epoch.safetensors", mid = dir + "/mid.safetensors"
        _ = try! TestSupport.run(gradus, ["train", "--set", "epochs=1", "--checkpoint", epoch], environment: environment())
        // checkpoint_every=5 then stop at step 7 (epochs=1 has 23 steps; SIGINT-free: a separate
        // trainer would do, but the binary is what users run): the file holds step 5.
        let trainer = try! Trainer(config: { var c = TrainConfig(); c.epochs = 1; c.checkpointEvery = 5; return c }(),
                                   registry: TestSupport.builtinRegistry())
        trainer.checkpoint = try! CheckpointDestination(mid)
        trainer.onBatch = { _, done, _, _ in if done == 7 { throw GradusError("stop") } }
        _ = try? trainer.run()
        return (epoch, mid)
    }()

    /// A copy of a checkpoint with some metadata replaced.
    static func edited(_ source: String, _ changes: [String: String], to path: String) throws {
        let c = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: source)), source: source)
        try SafeTensors.encode(Array(c.tensors), doubles: Array(c.doubles), metadata: c.metadata.merging(changes) { $1 })
            .write(to: URL(fileURLWithPath: path))
    }

    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GRADUS_PLUGIN_PATH"] = nil
        env["GRADUS_ALLOW_INSECURE_PLUGINS"] = nil
        return env
    }

    static let cases: [Case] = [
        // Integers that overflow when converted, multiplied or added.
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "epochs=9223372036854775807"], expected: "epochs=9223372036854775807: 9223372036854775807 epochs of 23 batches exceed"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "epochs=99999999999999999999"], expected: "epochs=99999999999999999999: expected an integer"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "model.hidden=4611686018427387904"], expected: "more parameters than can be counted"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "model.arch=lenet", "--set", "model.channels=9223372036854775807"], expected: "model.channels=9223372036854775807"),
        Case(inputClass: "overflowing integers", arguments: ["trace", "--steps", "9223372036854775807"], expected: "--steps 9223372036854775807: expected an integer in 0...100000000"),
        Case(inputClass: "overflowing integers", arguments: ["eval", "DIR/c.safetensors"], expected: "is not a non-negative number",
             setup: { try edited(checkpoints.epoch, ["step": "-1"], to: $0 + "/c.safetensors") }),
        Case(inputClass: "overflowing integers", arguments: ["train", "--resume", "DIR/c.safetensors", "--set", "epochs=2"], expected: "does not match step 9223372036854775807",
             setup: { try edited(checkpoints.epoch, ["step": "9223372036854775807"], to: $0 + "/c.safetensors") }),
        Case(inputClass: "overflowing integers", arguments: ["train", "--resume", "DIR/c.safetensors"], expected: "has already completed 9223372036854775807 epochs",
             setup: { try edited(checkpoints.epoch, ["epoch": "9223372036854775807"], to: $0 + "/c.safetensors") }),
        // Crafted safetensors headers.
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has 16 bytes for F32 shape [4294967296, 4294967296, 4]",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}}"#, data: 16), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has data_offsets [0, 18446744073709551615]",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}"#, data: 4), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has data_offsets [9223372036854775803, 9223372036854775807]",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775803,9223372036854775807]}}"#, data: 4), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has shape [-1], expected at most 8 non-negative integers",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has shape [1.5]",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: 4), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has dtype F16, expected F32 or F64",
             setup: { try write(safetensors(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "has 8 bytes for F32 shape [1]",
             setup: { try write(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, data: 8), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "nests 20000 levels deep, expected at most 16",
             setup: { try write(safetensors("{\"a\":" + String(repeating: "[", count: 19999) + String(repeating: "]", count: 19999) + "}"), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/c.safetensors"], expected: "header length 9223372036854775808 bytes, more than the format's limit",
             setup: { try write(withUnsafeBytes(of: (UInt64(1) << 63).littleEndian, Array.init) + Array("{}      ".utf8), $0 + "/c.safetensors") }),
        Case(inputClass: "safetensors headers", arguments: ["eval", "DIR/notes.txt"], expected: "DIR/notes.txt: not a safetensors file (no JSON header after the 8-byte length)",
             setup: { try write("Some notes that are not a checkpoint at all.\n", $0 + "/notes.txt") }),
        // Sizes that cannot be allocated are refused with the figure before allocating.
        Case(inputClass: "unallocatable sizes", arguments: ["train", "--set", "dataset=DIR/d.csv"], expected: "DIR/d.csv:3: label '1000000000' is not an integer in 0...1000000",
             setup: { try write("a,b,label\n1,2,0\n3,4,1000000000\n", $0 + "/d.csv") }),
        Case(inputClass: "unallocatable sizes", arguments: ["train", "--set", "model.hidden=4000000,4000000"], expected: "needs more than this machine's"),
        Case(inputClass: "unallocatable sizes", arguments: ["train", "/dev/zero"], expected: "/dev/zero: is not a regular file (a device, FIFO or socket), expected a YAML configuration file"),
        Case(inputClass: "unallocatable sizes", arguments: ["eval", "/dev/zero"], expected: "/dev/zero: is not a regular file (a device, FIFO or socket), expected a checkpoint"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "dataset=DIR/x.idx", "--set", "labels=DIR/y.idx"], expected: "DIR/x.idx: shape [0, 4294967295, 4294967295] has no rows",
             setup: { dir in
                 try write([0, 0, 8, 3, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255], dir + "/x.idx")
                 try write([0, 0, 8, 1, 0, 0, 0, 0], dir + "/y.idx") }),
        Case(inputClass: "resume mismatches", arguments: ["eval", "DIR/c.safetensors"], expected: "optimizer.rng/default = '1,2,x,3,4', expected 4 unsigned 64-bit integers",
             setup: { try edited(checkpoints.epoch, ["optimizer.rng/default": "1,2,x,3,4"], to: $0 + "/c.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["eval", "DIR/c.safetensors"], expected: "epoch 'x', batch '0', step '23' or epoch_loss_sum",
             setup: { try edited(checkpoints.epoch, ["epoch": "x"], to: $0 + "/c.safetensors") }),
        // Deep YAML is bounded before the parser recurses into it.
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/deep.yaml"], expected: "DIR/deep.yaml: the document nests about 20000 levels deep, expected at most 64",
             setup: { try write("epochs: " + String(repeating: "[", count: 20000) + String(repeating: "]", count: 20000) + "\n", $0 + "/deep.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/deep.yaml"], expected: "expected at most 64",
             setup: { try write(String(repeating: "- ", count: 10000) + "x\n", $0 + "/deep.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/deep.yaml"], expected: "expected at most 64",
             setup: { try write((0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n", $0 + "/deep.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/deep.yaml"], expected: "expected at most 64",
             setup: { try write("x: [it's, " + String(repeating: "[", count: 20000) + "1" + String(repeating: "]", count: 20001) + "\n", $0 + "/deep.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/deep.yaml"], expected: "expected at most 64",
             setup: { try write("a:\r\n" + String(repeating: "- ", count: 20000) + "x\r\n", $0 + "/deep.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/laughs.yaml"], expected: "aliases expanding without bound",
             setup: { dir in
                 var text = "a0: &a0 {k: {}}\n"
                 for i in 1...20 { text += "a\(i): &a\(i) {x: *a\(i - 1), y: *a\(i - 1), z: *a\(i - 1)}\n" }
                 try write(text, dir + "/laughs.yaml") }),
        // Resuming under changed or edited settings.
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/mid.safetensors", "--set", "batch_size=32"], expected: "--set batch_size=32: cannot change 'batch_size' when resuming",
             setup: { try FileManager.default.copyItem(atPath: checkpoints.mid, toPath: $0 + "/mid.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/mid.safetensors"], expected: "position epoch 0 + 5 batches does not match step 5 at 12 batches per epoch (batch_size=128)",
             setup: { dir in
                 let meta = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: checkpoints.mid)), source: "mid").metadata
                 try edited(checkpoints.mid, ["config": meta["config"]!.replacingOccurrences(of: "[\"batch_size\",\"64\"]", with: "[\"batch_size\",\"128\"]")], to: dir + "/mid.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/c.safetensors"], expected: "position epoch 1 + 3 batches does not match step 23",
             setup: { try edited(checkpoints.epoch, ["batch": "3"], to: $0 + "/c.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/c.safetensors", "--set", "epochs=1"], expected: "",
             setup: { try FileManager.default.copyItem(atPath: checkpoints.epoch, toPath: $0 + "/c.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/c2.safetensors", "--set", "epochs=1"], expected: "epochs=1: the checkpoint DIR/c2.safetensors has already completed 2 epochs",
             setup: { try edited(checkpoints.epoch, ["epoch": "2", "step": "46"], to: $0 + "/c2.safetensors") }),
        Case(inputClass: "resume mismatches", arguments: ["train", "--resume", "DIR/c.safetensors", "--set", "seed=5"], expected: "--set seed=5: cannot change 'seed' when resuming",
             setup: { try FileManager.default.copyItem(atPath: checkpoints.epoch, toPath: $0 + "/c.safetensors") }),
        // Input that used to be accepted silently.
        Case(inputClass: "silent acceptances", arguments: ["train", "DIR/dup.yaml"], expected: "DIR/dup.yaml: key 'epochs' is given twice",
             setup: { try write("epochs: 2\nepochs: 3\n", $0 + "/dup.yaml") }),
        Case(inputClass: "silent acceptances", arguments: ["train", "DIR/dup.yaml"], expected: "key 'optimizer.lr' is given twice",
             setup: { try write("optimizer: {id: adam, lr: 0.01}\noptimizer.lr: 0.1\n", $0 + "/dup.yaml") }),
        Case(inputClass: "silent acceptances", arguments: ["train", "DIR/list.yaml"], expected: "DIR/list.yaml: optimizer.lr is a list, expected a single value",
             setup: { try write("optimizer:\n  lr: [1]\n", $0 + "/list.yaml") }),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "schedule.lr=constant", "--set", "schedule.lr.nosuch=1"], expected: "gradus.constant: unknown argument 'nosuch'"),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--optimizer", "sgd", "--schedule", "lr=constant", "--set", "constant.nosuch=1"], expected: "gradus.constant: unknown argument 'nosuch'"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "pruner.sparsity=0.5"], expected: "pruner.sparsity=0.5: no pruner is set"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "normalizer.eps=0.1"], expected: "normalizer.eps=0.1: no normalizer is set"),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--start=1,2,"], expected: "--start=1,2,: expected two finite numbers"),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--set", "lr=1e-400"], expected: "gradus.adam: lr=1e-400 underflows to 0"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "optimizer.lr=1e400"], expected: "gradus.adam: lr=1e400 overflows double precision"),
        // Messages that used to mislead.
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "dataset=DIR/d.csv"], expected: "d.csv: 2 rows with test_fraction=0.2 leave 2 for training and 0 for testing",
             setup: { try write("a,label\n1,0\n2,1\n", $0 + "/d.csv") }),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "dataset=DIR/d.csv"], expected: "the header has only the 'label' column, expected at least one feature column",
             setup: { try write("label\n0\n1\n0\n1\n0\n", $0 + "/d.csv") }),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "dataset=DIR/d.csv"], expected: "DIR/d.csv: not UTF-8 text (invalid byte 0xFF at offset 9)",
             setup: { try write(Array("a,label\n1".utf8) + [0xFF] + Array(",0\n".utf8), $0 + "/d.csv") }),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "dataset=DIR/d.csv"], expected: "DIR/d.csv:5: 1 columns, expected 2",
             setup: { try write("a,label\n\n1,0\n\n7\n", $0 + "/d.csv") }),
        Case(inputClass: "misleading messages", arguments: ["train", "DIR/bad.yaml"], expected: "DIR/bad.yaml: not valid YAML: ",
             setup: { try write("epochs: 2\n  batch_size: [3\n", $0 + "/bad.yaml") }),
        Case(inputClass: "misleading messages", arguments: ["plugins", "check", "DIR/x.so"], expected: "DIR/x.so: is a directory, not a plugin library",
             setup: { try FileManager.default.createDirectory(atPath: $0 + "/x.so", withIntermediateDirectories: false) }),
        Case(inputClass: "misleading messages", arguments: ["plugins", "check", "DIR/junk.so"], expected: "DIR/junk.so: not a shared library (no ELF header)",
             setup: { try write("junk", $0 + "/junk.so") }),
        Case(inputClass: "misleading messages", arguments: ["trace", "--steps", "-1"], expected: "--steps -1: expected an integer in 0...100000000"),
        Case(inputClass: "misleading messages", arguments: ["train", "--nosuch"], expected: "Unknown option '--nosuch' (see --help)"),
        Case(inputClass: "misleading messages", arguments: ["plugins", "check", "adam", "--timeout", "-1"], expected: "--timeout -1.0: expected seconds in (0, 86400]"),
        // least_squares reads its problem from --data.
        Case(inputClass: "misleading messages", arguments: ["trace", "--function", "least_squares"], expected: "function 'least_squares' needs its data: --data with a folder holding a.npy, b.npy and x0.npy"),
        Case(inputClass: "misleading messages", arguments: ["trace", "--function", "least_squares", "--data", "DIR"], expected: "least_squares: DIR/b.npy is missing",
             setup: { try TestSupport.npy([3, 2], [1, 2, 3, 4, 5, 6]).write(to: URL(fileURLWithPath: $0 + "/a.npy")) }),
        Case(inputClass: "misleading messages", arguments: ["trace", "--function", "least_squares", "--data", "DIR"],
             expected: "least_squares: shapes a [3, 2], b [4, 1], x0 [2, 1] do not fit (expected a [m, k], b [m, n], x0 [k, n], all non-empty)",
             setup: { dir in
                 try TestSupport.npy([3, 2], [1, 2, 3, 4, 5, 6]).write(to: URL(fileURLWithPath: dir + "/a.npy"))
                 try TestSupport.npy([4, 1], [1, 2, 3, 4]).write(to: URL(fileURLWithPath: dir + "/b.npy"))
                 try TestSupport.npy([2, 1], [0, 0]).write(to: URL(fileURLWithPath: dir + "/x0.npy")) }),
        Case(inputClass: "misleading messages", arguments: ["trace", "--function", "least_squares", "--data", "DIR"], expected: "DIR/a.npy: shape [6], expected a 2-D array",
             setup: { try TestSupport.npy([6], [1, 2, 3, 4, 5, 6]).write(to: URL(fileURLWithPath: $0 + "/a.npy")) }),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--function", "least_squares", "--data", "DIR"], expected: "DIR/a.npy: holds a non-finite value",
             setup: { try TestSupport.npy([1, 2], [1, .nan]).write(to: URL(fileURLWithPath: $0 + "/a.npy")) }),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--function", "least_squares", "--data", "DIR", "--start=1,2"], expected: "--start does not apply to least_squares: its start is x0.npy in DIR"),
        Case(inputClass: "silent acceptances", arguments: ["trace", "--function", "beale", "--data", "DIR"], expected: "--data applies only to --function least_squares, not beale"),
        // Routes and global transforms.
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "optimizer=muon"],
             expected: "gradus.muon takes only matrices (2 or more dimensions), but parameter 'layers.0.bias' has shape [128]; route the others to another optimizer, e.g. optimizer=adamw with route.matrix=muon"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "route.weights=muon"], expected: "route.weights: unknown selector (expected one of bias, embedding, head, matrix, norm, norm_bias, norm_gain, vector)"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "route.matrix.lr=0.02"], expected: "route.matrix: hyperparameters given but no optimizer (set route.matrix=OPTIMIZER, e.g. route.matrix=muon)"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "route.embedding=adam"], expected: "route.embedding=adam: no parameter of this model has that role"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "route.matrix=muon", "--set", "route.matrix.betas=0.9"], expected: "gradus.muon: unknown hyperparameter 'betas'"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "optimizer=adamw", "--set", "route.matrix=muon", "--set", "param_groups.matrix.weight_decay=0"],
             expected: "param_groups.matrix.weight_decay=0: route.matrix sends those parameters to muon; set route.matrix.weight_decay=0 instead"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "optimizer=prodigy", "--set", "optimizer.slice_p=9223372036854775807"],
             expected: "gradus.prodigy: slice_p=9223372036854775807 is out of range"),
        Case(inputClass: "misleading messages", arguments: ["trace", "--optimizer", "schedulefree_adamw", "--set", "beta1=0"],
             expected: "gradus.schedulefree_adamw: beta1=0 is out of range"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--set", "clip_grad_norm=nan"], expected: "clip_grad_norm=nan: expected a finite number >= 0 (0: off)"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "accumulate_steps=9223372036854775807"],
             expected: "accumulate_steps=9223372036854775807 with batch_size=64: expected an integer >= 1 whose product with batch_size stays below 2^40"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "accumulate_steps=0"], expected: "accumulate_steps=0: expected an integer >= 1"),
        // --checkpoint never replaces what is not a Gradus checkpoint.
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--checkpoint", "DIR/data.csv", "--set", "epochs=1"], expected: "--checkpoint DIR/data.csv: exists and is not a Gradus checkpoint",
             setup: { try write("a,label\n1,0\n", $0 + "/data.csv") }),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--checkpoint", "DIR/folder", "--set", "epochs=1"], expected: "--checkpoint DIR/folder: is a directory",
             setup: { try FileManager.default.createDirectory(atPath: $0 + "/folder", withIntermediateDirectories: false) }),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--checkpoint", "DIR/link", "--set", "epochs=1"], expected: "--checkpoint DIR/link: is a symbolic link",
             setup: { dir in
                 try FileManager.default.copyItem(atPath: checkpoints.epoch, toPath: dir + "/real.safetensors")
                 try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real.safetensors") }),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--checkpoint", "/dev/null", "--set", "epochs=1"], expected: "--checkpoint /dev/null: is not a regular file"),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "DIR/run.yaml", "--checkpoint", "DIR/run.yaml"], expected: "--checkpoint DIR/run.yaml: is the configuration file of this run",
             setup: { try write("epochs: 1\n", $0 + "/run.yaml") }),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--checkpoint", "DIR/missing/c.safetensors", "--set", "epochs=1"], expected: "the folder DIR/missing does not exist"),
        // gradus compare, report and --db (the experiment database is never taken over or damaged).
        Case(inputClass: "overflowing integers", arguments: compare(["--seeds", "99999999999999999999"]), expected: "--seeds 99999999999999999999: expected an integer in 1...1000"),
        Case(inputClass: "overflowing integers", arguments: compare(["--jobs", "-1"]), expected: "--jobs -1: expected an integer in 1...256"),
        Case(inputClass: "overflowing integers", arguments: compare(["--sweep", "lr=1e-3..1e-1:99999999999999999999"]), expected: "K='99999999999999999999': expected an integer in 2...1000"),
        Case(inputClass: "unallocatable sizes", arguments: compare(["--sweep", "lr=1e-4..1e-1:1000", "--sweep", "momentum=0..0.9:1000"], optimizer: "sgd"),
             expected: "--sweep: the grids multiply to more than 1000 points per optimizer"),
        Case(inputClass: "safetensors headers", arguments: ["train", "--set", "epochs=1", "--db", "DIR/runs.sqlite"], expected: "DIR/runs.sqlite: not an SQLite database",
             setup: { try write("id,loss\n1,0.5\n", $0 + "/runs.sqlite") }),
        Case(inputClass: "safetensors headers", arguments: ["train", "--set", "epochs=1", "--db", "DIR/runs.sqlite"], expected: "DIR/runs.sqlite: ",
             setup: { try write(Array("SQLite format 3\0".utf8) + [UInt8](repeating: 0xEE, count: 4096), $0 + "/runs.sqlite") }),
        Case(inputClass: "checkpoint destinations", arguments: compare([]), expected: "DIR/out/runs.sqlite: an SQLite database that is not a Gradus experiment database",
             setup: { dir in
                 try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: false)
                 try SQLiteConnection(path: dir + "/out/runs.sqlite", create: true).execute("CREATE TABLE results (loss REAL); INSERT INTO results VALUES (0.5)") }),
        Case(inputClass: "checkpoint destinations", arguments: compare([]), expected: "--out DIR/out: exists and is not a folder",
             setup: { try write("notes\n", $0 + "/out") }),
        Case(inputClass: "deep YAML", arguments: ["compare", "DIR/deep.yaml", "--out", "DIR/out"], expected: "DIR/deep.yaml: the document nests about 5000 levels deep, expected at most 64",
             setup: { try write("tasks: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n", $0 + "/deep.yaml") }),
        Case(inputClass: "misleading messages", arguments: ["compare", "DIR/spec.yaml", "--out", "DIR/out"], expected: "DIR/spec.yaml: unknown key 'epochs' (expected one of: optimizers, tasks, seeds, set,",
             setup: { try write("optimizers: [adam]\ntasks: [digits-mlp]\nepochs: 10\n", $0 + "/spec.yaml") }),
        Case(inputClass: "overflowing integers", arguments: compare(["--sweep", "lr=1e-3..1e-1:3", "--budget", "18446744073709551616"]),
             expected: "--budget 18446744073709551616: expected an integer in 1...1000"),
        Case(inputClass: "silent acceptances", arguments: compare(["--budget", "2"]), expected: "--budget 2: applies only with --sweep"),
        Case(inputClass: "misleading messages", arguments: compare([], optimizer: "nope"), expected: "--optimizer nope: unknown"),
        Case(inputClass: "misleading messages", arguments: compare([], optimizer: "sgd:lrr=0.1"), expected: "--optimizer sgd:lrr=0.1: gradus.sgd has no hyperparameter 'lrr' (it has: dampening, lr,"),
        Case(inputClass: "misleading messages", arguments: compare([], optimizer: "adamw:route.matrix.lr=0.02"), expected: "route.matrix: hyperparameters given but no optimizer"),
        Case(inputClass: "silent acceptances", arguments: compare(["--set", "route.matrix=muon", "--set", "route.matrix.lr=0.02", "--set", "epochs=0"]),
             expected: "epochs=0: expected an integer >= 1"),
        Case(inputClass: "misleading messages", arguments: ["compare", "--optimizer", "adam", "--task", "imagenet", "--out", "DIR/out"],
             expected: "--task imagenet: unknown task (expected one of: digits-mlp, digits-lenet, digits-resnet, modular_addition, rosenbrock"),
        Case(inputClass: "misleading messages", arguments: compare(["--sweep", "beta9=0.1..0.9:3"]), expected: "--sweep beta9=0.1..0.9:3: gradus.adam has no hyperparameter 'beta9'"),
        Case(inputClass: "misleading messages", arguments: compare(["--target", "accuracy=0.9"]), expected: "--target accuracy=0.9: unknown metric 'accuracy'"),
        Case(inputClass: "misleading messages", arguments: compare(["--set", "validation_fraction=0.5"]), expected: "use --validation-fraction"),
        Case(inputClass: "misleading messages", arguments: compare(["--set", "epoch=3"]), expected: "unknown configuration key 'epoch'"),
        Case(inputClass: "misleading messages", arguments: ["compare", "--optimizer", "adam:route.matrix=muon", "--task", "rosenbrock", "--out", "DIR/out"],
             expected: "route.matrix applies to training tasks only"),
        Case(inputClass: "misleading messages", arguments: ["report", "DIR"], expected: "DIR: no runs.sqlite (expected a folder written by gradus compare --out)"),
        Case(inputClass: "misleading messages", arguments: ["report", "DIR"], expected: "holds no comparison",
             setup: { dir in _ = try ExperimentDatabase(path: dir + "/runs.sqlite") }),
        Case(inputClass: "checkpoint destinations", arguments: compare([]), expected: "--out DIR/out/report.html: exists and is not a Gradus report; not replacing it",
             setup: { dir in
                 try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: false)
                 try write("<html><title>my notes</title></html>\n", dir + "/out/report.html") }),
        Case(inputClass: "checkpoint destinations", arguments: ["report", "DIR", "--output", "DIR/runs.sqlite"], expected: "--output DIR/runs.sqlite: expected a file name ending in .html",
             setup: { dir in _ = try ExperimentDatabase(path: dir + "/runs.sqlite") }),
        Case(inputClass: "checkpoint destinations", arguments: ["train", "--set", "epochs=1", "--db", "DIR/same.bin", "--checkpoint", "DIR/same.bin"],
             expected: "--checkpoint DIR/same.bin: is the experiment database of this run"),
        Case(inputClass: "safetensors headers", arguments: ["report", "DIR"], expected: "DIR/runs.sqlite: an empty file, not a Gradus experiment database",
             setup: { try write([UInt8](), $0 + "/runs.sqlite") }),
        Case(inputClass: "checkpoint destinations", arguments: ["report", "DIR/link"], expected: "DIR/link/runs.sqlite: is a symbolic link",
             setup: { dir in
                 try FileManager.default.createDirectory(atPath: dir + "/link", withIntermediateDirectories: false)
                 try FileManager.default.createSymbolicLink(atPath: dir + "/link/runs.sqlite", withDestinationPath: dir + "/elsewhere.sqlite") }),
        Case(inputClass: "misleading messages", arguments: compare([], optimizer: "sgd:lr=abc"), expected: "--optimizer sgd:lr=abc on --task digits-mlp: gradus.sgd: lr=abc is not a number"),
        Case(inputClass: "misleading messages", arguments: compare([], optimizer: "adam:route.matrix=nosuch"), expected: "--optimizer adam:route.matrix=nosuch on --task digits-mlp: unknown optimizer 'nosuch'"),
        Case(inputClass: "misleading messages", arguments: ["compare", "--optimizer", "adam", "--task", "DIR/bad.yaml", "--out", "DIR/out"],
             expected: "--optimizer adam on --task DIR/bad.yaml: dataset=DIR/missing.csv: no such file",
             setup: { try write("dataset: \($0)/missing.csv\n", $0 + "/bad.yaml") }),
        Case(inputClass: "misleading messages", arguments: ["compare", "--optimizer", "adam", "--task", "DIR/withopt.yaml", "--out", "DIR/out"],
             expected: "--task DIR/withopt.yaml: 'optimizer.id' is set in the task file",
             setup: { try write("optimizer: {id: sgd, lr: 0.1}\n", $0 + "/withopt.yaml") }),
        Case(inputClass: "overflowing integers", arguments: compare(["--sweep", "ns_steps=1e30,2"], optimizer: "muon"),
             expected: "--sweep ns_steps=1e30,2: 1e+30 is not an integer this hyperparameter can take"),
        Case(inputClass: "overflowing integers", arguments: compare(["--sweep", "lr=-1e308..1e308:linear:3"]), expected: "the grid reaches"),
        Case(inputClass: "overflowing integers", arguments: compare(["--set", "seed=9223372036854775807", "--seeds", "2"]),
             expected: "run k has seed 9223372036854775807 + k, which must stay at most 9223372036854775807"),
        Case(inputClass: "deep YAML", arguments: ["compare", "DIR/chain.yaml", "--out", "DIR/out"], expected: "nests more than 64 levels deep (through aliases?)",
             setup: { try write("optimizers: [adam]\ntasks: [digits-mlp]\nset:\n  c0: &c0 {n: 1}\n" + (1..<30_000).map { "  c\($0): &c\($0) {n: *c\($0 - 1)}\n" }.joined(), $0 + "/chain.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["train", "DIR/chain.yaml"], expected: "nests more than 64 levels deep (through aliases?)",
             setup: { try write("c0: &c0 {n: 1}\n" + (1..<30_000).map { "c\($0): &c\($0) {n: *c\($0 - 1)}\n" }.joined(), $0 + "/chain.yaml") }),
        Case(inputClass: "deep YAML", arguments: ["compare", "DIR/bomb.yaml", "--out", "DIR/out"], expected: "DIR/bomb.yaml: more than 10000 keys",
             setup: { try write("optimizers: [adam]\ntasks: [digits-mlp]\nset:\n  x0: &x0 {a: 1}\n" + (1..<40).map { "  x\($0): &x\($0) {a: *x\($0 - 1), b: *x\($0 - 1)}\n" }.joined(), $0 + "/bomb.yaml") }),
        Case(inputClass: "silent acceptances", arguments: ["compare", "DIR/dup.yaml", "--out", "DIR/out"], expected: "DIR/dup.yaml: key 'epochs' is given twice",
             setup: { try write("optimizers: [adam]\ntasks: [digits-mlp]\nset: {epochs: 1, epochs: 2}\n", $0 + "/dup.yaml") }),
        Case(inputClass: "misleading messages", arguments: ["train", "--task", "imagenet"], expected: "--task imagenet: unknown task (expected one of: digits-mlp, digits-lenet, digits-resnet, modular_addition)"),
        Case(inputClass: "overflowing integers", arguments: ["train", "--set", "dataset=modular_addition:99999999999999999999"],
             expected: "dataset=modular_addition:99999999999999999999: the modulus '99999999999999999999' must be an integer in 2...1000"),
        Case(inputClass: "unallocatable sizes", arguments: ["train", "--task", "modular_addition", "--set", "model.d_model=4611686018427387904", "--set", "model.heads=1"],
             expected: "need more than this machine's"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "model.arch=transformer"],
             expected: "model.arch=transformer: dataset 'digits/train' has 64 features, not token sequences"),
        Case(inputClass: "misleading messages", arguments: ["train", "--task", "modular_addition", "--set", "model.heads=3"],
             expected: "model.d_model=128, model.heads=3: d_model must be a multiple of heads"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "model.arch=resnet", "--set", "dataset=modular_addition:5"],
             expected: "model.arch=resnet: dataset 'modular_addition:5/train' has 3 features, not images"),
        Case(inputClass: "unallocatable sizes", arguments: ["train", "--task", "digits-resnet", "--set", "model.blocks=4611686018427387904"],
             expected: "model.channels=16,32, model.blocks=4611686018427387904"),
        Case(inputClass: "misleading messages", arguments: ["train", "--set", "model.norm_placement=middle"], expected: "model.norm_placement=middle: expected post, pre, peri"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--run-id", "3"], expected: "--run-id needs --db"),
        Case(inputClass: "silent acceptances", arguments: ["train", "--db", "DIR/runs.sqlite", "--run-id", "99"], expected: "DIR/runs.sqlite: no run with id 99",
             setup: { dir in _ = try ExperimentDatabase(path: dir + "/runs.sqlite") }),
    ]

    /// `gradus compare` of adam (or `optimizer`) on digits-mlp into DIR/out, plus `extra`.
    static func compare(_ extra: [String], optimizer: String = "adam") -> [String] {
        ["compare", "--optimizer", optimizer, "--task", "digits-mlp", "--seeds", "1", "--set", "epochs=1", "--out", "DIR/out"] + extra
    }

    func testEveryBadInputIsOneLineWithStatus1AndDamagesNothing() throws {
        _ = BadInputTests.checkpoints
        var classes: Set<String> = []
        for c in BadInputTests.cases {
            classes.insert(c.inputClass)
            let dir = try TestSupport.temporaryDirectory()
            try c.setup(dir)
            let before = try snapshot(dir)
            let args = c.arguments.map { $0.replacingOccurrences(of: "DIR", with: dir) }
            let (status, out, err) = try TestSupport.run(BadInputTests.gradus, args, environment: BadInputTests.environment())
            let what = "[\(c.inputClass)] gradus \(args.joined(separator: " "))"
            if c.expected.isEmpty {
                XCTAssertEqual(status, 0, "\(what): \(err)")
                continue
            }
            XCTAssertEqual(status, 1, "\(what): \(err)")
            XCTAssertEqual(out, "", what)
            XCTAssertTrue(err.hasPrefix("gradus: error: ") && err.hasSuffix("\n"), "\(what): \(err)")
            XCTAssertEqual(err.filter { $0 == "\n" }.count, 1, "\(what): more than one line: \(err)")
            XCTAssertTrue(err.contains(c.expected.replacingOccurrences(of: "DIR", with: dir)), "\(what): expected '\(c.expected)' in: \(err)")
            XCTAssertEqual(try snapshot(dir), before, "\(what): a file was changed, added or removed")
        }
        XCTAssertEqual(classes.count, 8)
    }

    /// Every file under `dir` (not following links) with its bytes.
    func snapshot(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? [] {
            let path = dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFREG { out[name] = try Data(contentsOf: URL(fileURLWithPath: path)) }
            else { out[name] = Data("<\(st.st_mode & S_IFMT)>".utf8) }
        }
        return out
    }
}
