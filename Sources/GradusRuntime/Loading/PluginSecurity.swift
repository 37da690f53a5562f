import Glibc

/// Loading a plugin runs its code, so the host refuses files and folders that
/// someone other than their owner can write to, and files owned by other users
/// (root excepted), unless the user opts out (`--allow-insecure-plugins`,
/// `GRADUS_ALLOW_INSECURE_PLUGINS=1`).
enum PluginSecurity {
    /// Throws a one-line reason when `path` (a file or a folder) is unsafe to load from.
    static func check(_ path: String, isDirectory: Bool) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw GradusError("cannot stat: \(String(cString: strerror(errno)))") }
        let what = isDirectory ? "folder" : "file"
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw GradusError("refusing \(what) writable by other users (mode \(mode)); fix with chmod go-w, or pass --allow-insecure-plugins")
        }
        let me = geteuid()
        if st.st_uid != me && st.st_uid != 0 {
            throw GradusError("refusing \(what) owned by uid \(st.st_uid) (expected \(me) or root); pass --allow-insecure-plugins to load it anyway")
        }
    }
}
