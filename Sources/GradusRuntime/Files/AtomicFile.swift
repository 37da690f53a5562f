import Foundation

/// Whole-file replacement that never leaves a half-written file under the real name: the data
/// goes to a temporary file beside the target (`.<name>.tmp-<pid>`), is synced, and is renamed
/// over the target. An interrupted write leaves only the temporary, which `removeStale` deletes
/// once its writer process is gone.
public enum AtomicFile {
    /// The temporary name this process uses for `path`.
    public static func temporaryPath(for path: String) -> String {
        folder(of: path) + "/" + temporaryPrefix(for: path) + String(getpid())
    }

    static func temporaryPrefix(for path: String) -> String { "." + (path as NSString).lastPathComponent + ".tmp-" }

    static func folder(of path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        return dir.isEmpty ? "." : dir
    }

    /// Writes `data` to `path` atomically. An existing file at `path` is either left untouched
    /// or replaced whole; on failure the temporary is removed and the error names `path`.
    public static func write(_ data: Data, to path: String) throws {
        let tmp = temporaryPath(for: path)
        unlink(tmp)  // a leftover of an earlier process that had our pid
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GradusError("\(path): cannot create a temporary file in \(folder(of: path)): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(tmp)
            throw GradusError("\(path): write failed: \(failure); the previous file, if any, is unchanged")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw GradusError("\(path): rename failed: \(reason)")
        }
        let dirFD = open(folder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// Deletes temporaries of `path` left by writers that no longer run (the name pattern is
    /// this type's own, `.<name>.tmp-<pid>`, and a file counts only when that pid is not alive
    /// or is this process, which has not started writing yet). Returns the removed paths.
    @discardableResult
    public static func removeStale(for path: String) -> [String] {
        let dir = folder(of: path), prefix = temporaryPrefix(for: path)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let pid = Int32(digits) else { continue }
            let alive = pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)
            let full = dir + "/" + name
            var st = stat()
            guard !alive, lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, unlink(full) == 0 else { continue }
            removed.append(full)
        }
        return removed
    }
}

/// Writes `data` to `path` atomically (see `AtomicFile.write`).
public func writeAtomically(_ data: Data, to path: String) throws { try AtomicFile.write(data, to: path) }
