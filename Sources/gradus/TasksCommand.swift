import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus tasks`: the built-in tasks that `train --task` and `compare --task` accept.
struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in tasks (presets of dataset, model, optimizer and run length) with their metric and target; compare also takes test functions and training YAML files.")
    @Flag(help: "One JSON object per task.") var json = false

    func run() throws {
        for task in TrainingTask.all {
            if json {
                StandardOutput.line(JSONText.object([("name", JSONText.string(task.name)), ("metric", JSONText.string(task.metric)),
                                                     ("target", JSONText.string(task.target)), ("summary", JSONText.string(task.summary)),
                                                     ("settings", JSONText.object(task.settings.map { ($0.0, JSONText.string($0.1)) }))]))
            } else {
                StandardOutput.line("\(task.name)  \(task.metric) ≥ \(task.target)\(task.targetNote.isEmpty ? "" : " (\(task.targetNote))")\n    \(task.summary)")
            }
        }
        if !json { StandardOutput.line("test functions (compare only, as traces): \(TestFunction.all.map(\.name).joined(separator: ", "))") }
    }
}
