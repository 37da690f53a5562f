import Foundation

/// The file a training run writes its checkpoints to, checked before the first epoch so that a
/// mistyped `--checkpoint` can never destroy anything: the path must be new, or a regular file
/// that already holds a Gradus checkpoint (read from its header, not guessed from the name), and
/// never a symbolic link, a directory, a device, or a file the run reads (dataset, labels,
/// configuration, plugins). The folder must accept a new file now, not after an hour of training.
/// Stale temporaries of earlier interrupted writes to the same path are removed.
public struct CheckpointDestination: Sendable {
    public let path: String
    /// Temporaries of earlier, interrupted writes that were removed when this destination was checked.
    public let removedTemporaries: [String]

    /// Checks `path`; `protected` are (description, path) pairs of files the run reads.
    public init(_ path: String, protecting protected: [(String, String)] = []) throws {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw GradusError("--checkpoint '\(path)': expected a file path, not a folder")
        }
        self.path = path
        var st = stat()
        if lstat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                throw GradusError("--checkpoint \(path): is a symbolic link (to \(target)); refusing to replace it — give the file's own path")
            }
            guard type != S_IFDIR else { throw GradusError("--checkpoint \(path): is a directory; expected a checkpoint file") }
            guard type == S_IFREG else {
                throw GradusError("--checkpoint \(path): is not a regular file (a device, FIFO or socket); refusing to write there")
            }
            for (what, other) in protected {
                var o = stat()
                if stat(other, &o) == 0, o.st_dev == st.st_dev, o.st_ino == st.st_ino {
                    throw GradusError("--checkpoint \(path): is the \(what) of this run (\(other)); refusing to replace it")
                }
            }
            do {
                let header = try SafeTensors.header(atPath: path)
                guard header.metadata["format"] == Checkpoint.format else {
                    throw GradusError("a safetensors file without Gradus checkpoint metadata (format '\(header.metadata["format"] ?? "none")')")
                }
            } catch let error as GradusError {
                let reason = error.message.hasPrefix(path + ": ") ? String(error.message.dropFirst(path.count + 2)) : error.message
                throw GradusError("--checkpoint \(path): exists and is not a Gradus checkpoint (\(reason)); refusing to replace it — choose another path")
            }
        } else if errno != ENOENT {
            throw GradusError("--checkpoint \(path): \(String(cString: strerror(errno)))")
        } else {
            // Not there yet: a file the run will create there itself (its experiment database) is
            // still the same file.
            let mine = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            for (what, other) in protected where !other.isEmpty && URL(fileURLWithPath: other).standardizedFileURL.resolvingSymlinksInPath().path == mine {
                throw GradusError("--checkpoint \(path): is the \(what) of this run (\(other)); choose another path")
            }
        }
        let folder = AtomicFile.folder(of: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw GradusError("--checkpoint \(path): the folder \(folder) does not exist")
        }
        removedTemporaries = AtomicFile.removeStale(for: path)
        // Prove the folder takes a new file now (permissions, read-only mounts, quotas).
        let probe = AtomicFile.temporaryPath(for: path)
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw GradusError("--checkpoint \(path): cannot write in the folder \(folder): \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// Writes `checkpoint` atomically.
    public func write(_ checkpoint: Checkpoint) throws { try checkpoint.write(to: path) }
}
