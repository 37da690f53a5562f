import Foundation
import Yams

/// Bounded YAML reading shared by training configurations and comparison specs: the text's
/// nesting is estimated before the parser sees it (a parser recursing thousands of levels deep
/// would overflow its stack), and flattening a mapping bounds its depth, keys and visited nodes,
/// so that aliases cannot expand without bound or nest past the limit either.
enum YAMLDocument {
    static let maxNesting = 64, maxKeys = 10_000

    /// Parses `text` and hands its root node (nil for an empty document) to `body`, on a thread
    /// with a 512 MiB stack (reserved, not committed) that also drops the node: aliases can chain
    /// a document into a structure tens of thousands of levels deep from a flat text, and building
    /// or releasing such a structure recurses once per level. The 1 MiB bound on configuration
    /// files keeps any chain within that stack.
    static func read<R>(_ text: String, source: String, _ body: @escaping (Node?) throws -> R) throws -> R {
        let outcome = BigStackOutcome<R>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.value = Result { try body(try parse(text, source: source)) }
            done.signal()
        }
        thread.stackSize = 512 << 20
        thread.start()
        done.wait()
        return try outcome.value!.get()
    }

    /// The document's root node (nil for an empty document); see `read` for where to call it.
    static func parse(_ text: String, source: String) throws -> Node? {
        let depth = YAMLNesting.estimate(text)
        guard depth <= maxNesting else {
            throw GradusError("\(source): the document nests about \(depth) levels deep, expected at most \(maxNesting)")
        }
        do { return try Yams.compose(yaml: text) } catch {
            let lines = String(describing: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            // Yams gives "line:column: reason" then the offending line and a caret; keep the reason and the line.
            let message = lines.filter { !$0.isEmpty && !$0.allSatisfy { $0 == "^" } }.joined(separator: " — ")
            throw GradusError("\(source): not valid YAML: \(message)")
        }
    }

    /// A mapping as (dotted key, text) pairs in document order, keys prefixed with `prefix`. Keys
    /// in `lists` may hold a list of scalars (joined with commas); elsewhere a list is an error, as
    /// is a key given twice.
    static func flatten(_ mapping: Node.Mapping, prefix: String = "", source: String, lists: Set<String> = []) throws -> [(String, String)] {
        var out: [(String, String)] = []
        var seen: Set<String> = []
        var visited = 0
        func add(_ path: String, _ value: String) throws {
            guard seen.insert(path).inserted else { throw GradusError("\(source): key '\(path)' is given twice") }
            guard out.count < maxKeys else { throw GradusError("\(source): more than \(maxKeys) keys") }
            out.append((path, value))
        }
        func walk(_ mapping: Node.Mapping, _ prefix: String, depth: Int) throws {
            guard depth <= maxNesting else {
                let shown = prefix.count > 60 ? prefix.prefix(60) + "…" : Substring(prefix)
                throw GradusError("\(source): \(shown) nests more than \(maxNesting) levels deep (through aliases?)")
            }
            visited += mapping.count
            guard visited <= maxKeys * 10 else { throw GradusError("\(source): more than \(maxKeys * 10) nodes (aliases expanding without bound?)") }
            for (k, v) in mapping {
                guard let key = k.scalar?.string else { throw GradusError("\(source): a key under '\(prefix.isEmpty ? "the top level" : prefix)' is not a plain string") }
                let path = prefix.isEmpty ? key : prefix + "." + key
                switch v {
                case .scalar(let s): try add(path, s.string)
                case .sequence(let seq):
                    guard lists.contains(path) else {
                        throw GradusError("\(source): \(path) is a list, expected a single value\(lists.isEmpty ? "" : " (lists are allowed for \(lists.sorted().joined(separator: ", ")))")")
                    }
                    let items = try seq.map { item -> String in
                        guard let s = item.scalar?.string else { throw GradusError("\(source): \(path) must be a list of scalars") }
                        return s
                    }
                    try add(path, items.joined(separator: ","))
                case .mapping(let m): try walk(m, path, depth: depth + 1)
                }
            }
        }
        try walk(mapping, prefix, depth: 1)
        return out
    }
}

/// The result a `YAMLDocument.read` thread hands back (written before the semaphore is signalled,
/// read after it is waited on).
private final class BigStackOutcome<R>: @unchecked Sendable {
    var value: Result<R, Error>?
}
