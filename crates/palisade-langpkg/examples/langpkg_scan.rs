//! Reads files the way image inventory does and prints the packages found, one JSON object a
//! line, then a timing line on stderr. `cargo run --release -p palisade-langpkg --example
//! langpkg_scan -- FILE...` (a file is streamed when executable, read whole otherwise).
//! `LANGPKG_REPEAT=N` streams each executable N times back to back as one file (a memory
//! bound check: `LANGPKG_REPEAT=12` on a 170 MB binary is a 2 GB stream).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use palisade_langpkg::{BinaryScanner, Interest, interest, parse_file};

fn main() {
    let started = Instant::now();
    let mut bytes_read: u64 = 0;
    let repeat: usize = std::env::var("LANGPKG_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for path in std::env::args().skip(1) {
        let meta = std::fs::metadata(&path).expect("stat");
        let executable = meta.permissions().mode() & 0o111 != 0;
        let name = path.trim_start_matches('/');
        let result = match interest(name, meta.len(), executable) {
            Interest::Skip => continue,
            Interest::Whole { .. } => {
                let bytes = std::fs::read(&path).expect("read");
                bytes_read += bytes.len() as u64;
                parse_file(name, &bytes)
            }
            Interest::Stream => {
                let mut scanner = BinaryScanner::new(name, meta.len() * repeat as u64);
                let mut buf = vec![0u8; 1 << 20];
                for _ in 0..repeat {
                    let mut file = std::fs::File::open(&path).expect("open");
                    loop {
                        let n = file.read(&mut buf).expect("read");
                        if n == 0 || scanner.is_done() {
                            break;
                        }
                        bytes_read += n as u64;
                        scanner.feed(buf.get(..n).unwrap_or(&[]));
                    }
                }
                scanner.finish()
            }
        };
        match result {
            Ok(packages) => {
                for p in packages {
                    println!("{}", serde_json::to_string(&p).unwrap());
                }
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    eprintln!(
        "read {:.1} MiB in {:.3} s",
        bytes_read as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
}
