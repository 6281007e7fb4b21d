//! CPU time of processes, from `/proc/PID/stat`, for the per-core figures: how many grants a
//! server completes per second of CPU it used, whatever else the machine was doing.

use anyhow::Context;

/// Linux reports `utime` and `stime` in units of USER_HZ, which is 100 on every architecture
/// Linux supports today (`getconf CLK_TCK`).
const USER_HZ: f64 = 100.0;

/// User plus system CPU seconds used so far by every thread of process `pid` (`self` for
/// this process).
pub fn seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces and parentheses; the fields after the last
    // ')' start with field 3, so utime (14) and stime (15) are the 12th and 13th of them.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc stat format")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc stat line")?
            .parse::<u64>()? as f64)
    };
    Ok((field(11)? + field(12)?) / USER_HZ)
}
