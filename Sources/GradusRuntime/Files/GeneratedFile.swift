import Foundation

/// A file Gradus generates and may replace (a report, a chart): its name must end in the
/// expected extension, and an existing file must be one Gradus generated (it holds `marker` in
/// its first kilobytes), so that a mistyped path never replaces a checkpoint, a dataset or notes.
public enum GeneratedFile {
    public static func checkReplaceable(_ path: String, option: String, suffix: String, marker: String, what: String) throws {
        guard path.lowercased().hasSuffix(suffix) else { throw GradusError("\(option) \(path): expected a file name ending in \(suffix)") }
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard folder.isEmpty || (FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw GradusError("\(option) \(path): the folder \(folder) does not exist")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard !isDirectory.boolValue else { throw GradusError("\(option) \(path): is a folder, expected a file name") }
        let head = (FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 4096) }).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard head.contains(marker) else { throw GradusError("\(option) \(path): exists and is not \(what); not replacing it") }
    }
}
