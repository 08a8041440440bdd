//! Workloads for the instance tests: memory that is really resident.

use std::io::Write;

use crate::{Report, Usage};

/// `hold-memory MIB`: allocates MIB mebibytes, writes a byte on every page so that all of
/// it is resident, prints `ok hold-memory`, then sleeps until killed.
pub fn hold_memory(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [mib] = args else {
        return Err(Usage("one argument, the mebibytes to hold".into()));
    };
    let mib: usize = mib
        .parse()
        .map_err(|_| Usage(format!("{mib:?} is not a number of mebibytes")))?;
    let mut block = vec![0u8; mib << 20];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(&block);
    report.whole(Ok(()));
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        std::hint::black_box(&block);
    }
}

/// `fork-many N`: starts N `sleep` processes, or as many as the sandbox allows, prints
/// `forked COUNT of N` and the error that stopped it, then sleeps until killed (the
/// children stay).
pub fn fork_many(args: &[String], _report: &mut Report) -> Result<(), Usage> {
    let [n] = args else {
        return Err(Usage("one argument, the number of processes".into()));
    };
    let n: usize = n
        .parse()
        .map_err(|_| Usage(format!("{n:?} is not a number")))?;
    let mut children = Vec::new();
    let mut stopped_by = String::from("nothing");
    for _ in 0..n {
        match std::process::Command::new("sleep").arg("100000").spawn() {
            Ok(child) => children.push(child),
            Err(err) => {
                stopped_by = err.to_string();
                break;
            }
        }
    }
    println!("forked {} of {n}, stopped by: {stopped_by}", children.len());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
