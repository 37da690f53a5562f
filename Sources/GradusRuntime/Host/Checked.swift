import Glibc

/// Integer arithmetic on sizes and counts that come from input (file headers, configurations):
/// nil instead of an overflow trap, so the caller can say which value was too large.
enum Checked {
    /// This machine's physical memory in bytes: the bound sizes from input are checked against.
    static var physicalMemory: Int { Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// The product of `factors`, or nil when it overflows or any partial product exceeds `limit`.
    static func product(_ factors: [Int], limit: Int = .max) -> Int? {
        var p = 1
        for f in factors {
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            guard !overflow, r <= limit else { return nil }
            p = r
        }
        return p
    }

    /// The sum of `terms`, or nil when a term is nil or the sum overflows.
    static func sum(_ terms: [Int?]) -> Int? {
        var total = 0
        for t in terms {
            guard let t else { return nil }
            let (r, overflow) = total.addingReportingOverflow(t)
            if overflow { return nil }
            total = r
        }
        return total
    }
}
