//! `interest` is called for every file of every layer: it must not allocate. A test binary of
//! its own, so no other test allocates while this one counts.
#![allow(clippy::unwrap_used)]

use palisade_langpkg::{Interest, interest};

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

#[test]
fn interest_does_not_allocate() {
    let paths = [
        (
            "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
            false,
        ),
        (
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
            false,
        ),
        ("srv/app/node_modules/@babel/core/package.json", false),
        ("opt/app/APP.WAR", false),
        ("usr/local/bin/kubelet", true),
        ("usr/share/doc/bash/copyright", false),
        ("etc/ssl/certs/ca-certificates.crt", false),
    ];
    let before = ALLOCATOR.total_allocated();
    let mut streamed = 0;
    for _ in 0..1000 {
        for (path, executable) in paths {
            if interest(path, 100_000, executable) == Interest::Stream {
                streamed += 1;
            }
        }
    }
    let after = ALLOCATOR.total_allocated();
    assert_eq!(streamed, 1000);
    assert_eq!(
        after - before,
        0,
        "interest allocated {} bytes",
        after - before
    );
}
