import Foundation
import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// Faults a user meets while a run is under way, through the binary: signals, divergence,
/// interrupted writes, failing standard output, and plugins that crash or hang.
final class FaultTests: XCTestCase {
    var gradus: String { TestSupport.buildDirectory + "/gradus" }
    var environment: [String: String] { BadInputTests.environment() }

    /// An optimizer plugin doing plain SGD (lr 0.05) that runs `fault` at step `at`.
    static func faultyPlugin(_ id: String, at step: Int, fault: String) throws -> String {
        let source = "#include <stdlib.h>\n#include <math.h>\n" + TestSupport.probeOptimizer(id: id, capabilities: "0", slots: [], step: """
            if (c->step == \(step)) { \(fault) }
            for (uint32_t i = 0; i < g->count; i++) {
                const gradus_param *p = &g->params[i];
                for (int64_t k = 0; k < p->value->count; k++) p->value->data[k] -= 0.05f * p->grad->data[k];
            }
            (void)h;
            return GRADUS_OK;
        """)
        let path = try TestSupport.temporaryDirectory() + "/\(id.replacingOccurrences(of: ".", with: "_")).so"
        try TestSupport.compileC(source, to: path, flags: ["-lm"])
        return path
    }

    /// Starts `gradus` with `arguments`; returns the process and its stderr pipe.
    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gradus)
        p.arguments = arguments
        p.environment = environment
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        return (p, err)
    }

    func waitForFile(_ path: String, timeout: Double = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(20_000) }
    }

    func testSIGINTAndSIGTERMStopBetweenBatchesWithALoadableCheckpoint() throws {
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let dir = try TestSupport.temporaryDirectory()
            let ck = dir + "/ck.safetensors"
            let (p, err) = try start(["train", "--set", "epochs=100000", "--checkpoint", ck])
            waitForFile(ck)
            kill(p.processIdentifier, signal)
            // It must stop on its own; a run that ignores the signal is killed and fails the test.
            let deadline = Date().addingTimeInterval(60)
            while p.isRunning, Date() < deadline { usleep(20_000) }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                XCTFail("\(HostSignals.name(signal)) did not stop training within 60 s")
                continue
            }
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationReason, .exit)
            XCTAssertEqual(p.terminationStatus, status, message)
            XCTAssertTrue(message.hasPrefix("gradus: interrupted by \(HostSignals.name(signal)) in epoch ")
                          || message.hasPrefix("gradus: interrupted by \(HostSignals.name(signal)) after epoch "), message)
            XCTAssertTrue(message.hasSuffix("; \(ck) holds this position (resume with --resume \(ck))\n"), message)
            let saved = try Checkpoint(contentsOf: ck)
            XCTAssertGreaterThan(saved.stepCount, 0)
            // The checkpoint holds the very position the message names.
            let stepText = message.components(separatedBy: "(step ").last?.prefix { $0.isNumber } ?? ""
            XCTAssertEqual(Int64(stepText), saved.stepCount, message)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["ck.safetensors"], "no temporary left")
            // It resumes: one more epoch from the interrupted position.
            let (resumed, _, resumeErr) = try TestSupport.run(gradus, ["train", "--resume", ck, "--set", "epochs=\(saved.epoch + 1)"], environment: environment)
            XCTAssertEqual(resumed, 0, resumeErr)
        }
    }

    func testStaleTemporariesOfDeadWritersAreRemovedAndOthersKept() throws {
        let dir = try TestSupport.temporaryDirectory()
        let ck = dir + "/ck.safetensors"
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno == EPERM { dead -= 1 }
        let stale = ".ck.safetensors.tmp-\(dead)", live = ".ck.safetensors.tmp-1", foreign = ".ck.safetensors.tmp-x", other = ".other.tmp-\(dead)"
        for name in [stale, live, foreign, other] { try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        let (status, _, err) = try TestSupport.run(gradus, ["train", "--set", "epochs=1", "--checkpoint", ck], environment: environment)
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), [live, foreign, other, "ck.safetensors"].sorted())
    }

    func testADivergedRunKeepsTheLastGoodCheckpointAndNamesIt() throws {
        let dir = try TestSupport.temporaryDirectory()
        let ck = dir + "/ck.safetensors"
        // SGD whose learning rate grows 1.3× per step: fine for the first epoch, diverged soon after.
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--set", "optimizer=sgd", "--set", "optimizer.lr=0.01", "--set", "epochs=20",
                                                              "--set", "schedule.lr=exponential", "--set", "schedule.lr.gamma=1.3", "--checkpoint", ck],
                                                     environment: environment)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.hasPrefix("gradus: error: training diverged: "), err)
        let epochs = out.split(separator: "\n").count
        XCTAssertGreaterThanOrEqual(epochs, 1, "the first epoch is still finite")
        let saved = try Checkpoint(contentsOf: ck)
        XCTAssertEqual(saved.epoch, epochs)
        XCTAssertTrue(err.hasSuffix("; the last good checkpoint is \(ck) (epoch \(epochs), step \(saved.stepCount))\n"), err)
        XCTAssertNil(try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: ck)), source: ck).tensors.values.first { !$0.isFinite })
    }

    /// Weights that turn non-finite on the last batch of an epoch (the loss of that batch was
    /// still finite) are never written over the last good checkpoint, which the error names.
    func testNonFiniteWeightsAreNeverCheckpointed() throws {
        let plugin = try FaultTests.faultyPlugin("acme.nan_weights", at: 23, fault: "GRADUS_ARRAY_AT(const gradus_param, g->params, 0)->value->data[0] = NAN;")
        let dir = try TestSupport.temporaryDirectory()
        let ck = dir + "/ck.safetensors"
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--plugin", plugin, "--set", "optimizer=acme.nan_weights", "--set", "epochs=2",
                                                              "--set", "checkpoint_every=10", "--checkpoint", ck], environment: environment)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(out, "", "the diverged epoch is not reported as finished")
        XCTAssertEqual(err, "gradus: error: training diverged: parameter layers.0.weight is not finite at step 23; not writing it to \(ck); the last good checkpoint is \(ck) (epoch 0 + 20 batches, step 20)\n")
        let saved = try Checkpoint(contentsOf: ck)
        XCTAssertEqual(saved.stepCount, 20)
        XCTAssertTrue(saved.weights.values.allSatisfy(\.isFinite))
    }

    /// A NaN gradient under a finite loss stops training at once, naming the parameter, before
    /// any optimizer sees it.
    func testANonFiniteGradientUnderAFiniteLossIsCaught() throws {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.compileC(String(contentsOfFile: TestSupport.fixturePath("broken_plugins.c"), encoding: .utf8),
                                 to: dir + "/nan.so", flags: ["-DNAN_BACKWARD"])
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--plugin", dir + "/nan.so", "--set", "normalizer=broken.normalizer",
                                                              "--set", "normalizer_form=kernel", "--set", "epochs=1"], environment: environment)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(out, "")
        XCTAssertTrue(err.hasPrefix("gradus: error: step 1: the gradient of layers.0.weight is not finite (NaN or Inf) with a finite loss "), err)
        XCTAssertTrue(err.hasSuffix("; lower the learning rate or check the data\n"), err)
    }

    func testStandardOutputFailuresAreReported() throws {
        let (status, _, err) = try TestSupport.run("/bin/sh", ["-c", "\(gradus) trace --steps 3 > /dev/full"], environment: environment)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(err, "gradus: error: cannot write to standard output: No space left on device\n")
        // A reader that goes away is not an error: the writer stops quietly.
        let (piped, out, pipedErr) = try TestSupport.run("/bin/bash", ["-c", "\(gradus) trace --steps 300000 | head -1; echo status=${PIPESTATUS[0]}"],
                                                         environment: environment)
        XCTAssertEqual(piped, 0)
        XCTAssertEqual(pipedErr, "")
        XCTAssertTrue(out.hasSuffix("status=0\n"), out)
    }

    func testPluginsCheckReportsACrashingAndAHangingPluginAndStillSummarises() throws {
        let crashing = try FaultTests.faultyPlugin("acme.crash", at: 6, fault: "abort();")
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "check", crashing], environment: environment)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(out.contains("FAIL  acme.crash: save and load mid-run equals a continuous run — crashed: SIGABRT in step\n"), out)
        XCTAssertTrue(out.contains("PASS  acme.crash: zero gradient is a no-op"), "checks that take fewer steps still pass:\n\(out)")
        XCTAssertTrue(err.hasPrefix("gradus: error: ") && err.hasSuffix(" check(s) failed\n"), err)

        let hanging = try FaultTests.faultyPlugin("acme.hang", at: 1, fault: "for (volatile int spin = 1; spin;) {}")
        let started = Date()
        let (hangStatus, hangOut, _) = try TestSupport.run(gradus, ["plugins", "check", hanging, "--timeout", "1"], environment: environment, timeout: 120)
        XCTAssertEqual(hangStatus, 1)
        XCTAssertTrue(hangOut.contains("FAIL  acme.hang: zero gradient is a no-op — timed out after 1 s (stopped with SIGKILL)\n"), hangOut)
        XCTAssertLessThan(Date().timeIntervalSince(started), 50, "every check was stopped by its time limit")
    }

    /// A library whose constructor crashes is never loaded by `plugins check` itself: the child
    /// that lists the checks dies, and the command reports it as a failure with exit status 1.
    func testPluginsCheckSurvivesALibraryThatCrashesWhileLoading() throws {
        let dir = try TestSupport.temporaryDirectory()
        var source = try String(contentsOfFile: TestSupport.fixturePath("broken_plugins.c"), encoding: .utf8)
        source += "\n__attribute__((constructor)) static void crash_on_load(void) { abort(); }\n"
        try TestSupport.compileC(source, to: dir + "/loadcrash.so", flags: ["-DOPTIMIZER"])
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "check", dir + "/loadcrash.so"], environment: environment, timeout: 120)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(out, "FAIL  \(dir)/loadcrash.so: loading — crashed: SIGABRT in dlopen (the library's constructors)\n")
        XCTAssertEqual(err, "gradus: error: 1 of 1 check(s) failed\n")
    }

    func testACrashInTrainingNamesThePluginAndKeepsTheLastCheckpoint() throws {
        let plugin = try FaultTests.faultyPlugin("acme.late_crash", at: 30, fault: "abort();")
        let dir = try TestSupport.temporaryDirectory()
        let ck = dir + "/ck.safetensors"
        let (status, _, err) = try TestSupport.run(gradus, ["train", "--plugin", plugin, "--set", "optimizer=acme.late_crash",
                                                            "--set", "epochs=3", "--checkpoint", ck], environment: environment)
        XCTAssertEqual(status, SIGABRT, "the process ends by the signal itself")
        XCTAssertEqual(err, "gradus: fatal: SIGABRT (abort) in plugin acme.late_crash, call step: the plugin crashed the process; the last completed checkpoint is \(ck) (epoch 1, step 23)\n")
        XCTAssertEqual(try Checkpoint(contentsOf: ck).epoch, 1)
    }

    func testLibrariesWithoutTheEntryAreNotLoadedSoTheirConstructorsNeverRun() throws {
        let dir = try TestSupport.temporaryDirectory()
        let marker = dir + "/constructor-ran"
        try TestSupport.compileC("""
            #include <stdio.h>
            #include <stdlib.h>
            __attribute__((constructor)) static void boom(void) { FILE *f = fopen("\(marker)", "w"); if (f) fclose(f); abort(); }
            int unrelated(void) { return 1; }
            """, to: dir + "/libsystemthing.so")
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "list", "--plugin-path", dir], environment: environment)
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err, "gradus: warning: \(dir)/libsystemthing.so: no 'gradus_plugin_entry_v1' symbol: not a Gradus plugin, or one built for another ABI major\n")
        XCTAssertTrue(out.contains("gradus.adam"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the library's constructor ran")
    }

    func testABarePluginNameIsRelativeToTheWorkingDirectoryAndEvalNeedsNoOptimizer() throws {
        let plugin = try FaultTests.faultyPlugin("acme.sgd", at: -1, fault: "")
        let dir = (plugin as NSString).deletingLastPathComponent, name = (plugin as NSString).lastPathComponent
        let ck = dir + "/ck.safetensors"
        let (status, _, err) = try TestSupport.run(gradus, ["train", "--plugin", name, "--set", "optimizer=acme.sgd", "--set", "epochs=2",
                                                            "--checkpoint", ck], environment: environment, directory: dir)
        XCTAssertEqual(status, 0, err)
        // Evaluation takes no optimizer step, so the optimizer's plugin is not needed.
        let (evalStatus, out, evalErr) = try TestSupport.run(gradus, ["eval", ck], environment: environment)
        XCTAssertEqual(evalStatus, 0, evalErr)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(line["checkpoint"] as? String, ck)
        XCTAssertGreaterThan(line["test_accuracy"] as? Double ?? 0, 0.5)
    }
}
