import Foundation

/// The standard `process_*` metrics of a Prometheus client, read from the kernel when a scrape
/// asks: CPU seconds, resident and virtual memory, open and allowed file descriptors, start time.
public enum ProcessMetrics {
    public static func update(_ metrics: MetricsRegistry) {
        var usage = rusage()
        if getrusage(RUSAGE_SELF.rawValue, &usage) == 0 {
            let cpu =
                Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
                + Double(usage.ru_stime.tv_usec) / 1e6
            metrics.setTotal("process_cpu_seconds_total", cpu, help: "Total user and system CPU time spent in seconds.")
        }
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ").compactMap { Double($0) }
            if fields.count >= 2 {
                metrics.set("process_virtual_memory_bytes", fields[0] * page, help: "Virtual memory size in bytes.")
                metrics.set("process_resident_memory_bytes", fields[1] * page, help: "Resident memory size in bytes.")
            }
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // One of them is the directory being listed.
            metrics.set("process_open_fds", Double(max(0, fds.count - 1)), help: "Number of open file descriptors.")
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            metrics.set("process_max_fds", Double(limit.rlim_cur), help: "Maximum number of open file descriptors.")
        }
        metrics.set(
            "process_start_time_seconds", startTime, help: "Start time of the process since unix epoch in seconds.")
    }

    /// From /proc: the process's start in clock ticks after boot, plus the boot time.
    static let startTime: Double = {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"),
            let procStat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let bootLine = procStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(bootLine.dropFirst("btime ".count))
        else { return Double(wallClockMicros()) / 1e6 }
        // Fields after the command name, from field 3 (state); start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return Double(wallClockMicros()) / 1e6 }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()
}
