#!/usr/bin/env python3
"""Writes a same-size copy of a Go ELF binary that keeps only the bytes the Kubernetes version
recovery reads (ELF header and program headers, the Go build info blob, the string headers of
the six k8s.io/{client-go,component-base} version variables and the strings they point to) and
zeroes everything else, gzipped. 32/64-bit, either byte order. Usage: excerpt.py BINARY OUT.gz"""
import gzip
import struct
import sys

MAGIC = b"\xff Go buildinf:"


def main(src, dst):
    b = open(src, "rb").read()
    assert b[:4] == b"\x7fELF", "ELF only"
    e = "<" if b[5] == 1 else ">"
    if b[4] == 2:
        ptr, w = 8, "Q"
        phoff, = struct.unpack_from(e + "Q", b, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", b, 54)
    else:
        ptr, w = 4, "I"
        phoff, = struct.unpack_from(e + "I", b, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", b, 42)
    loads = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if ptr == 8:
            t, flags, off, vaddr, _, filesz = struct.unpack_from(e + "IIQQQQ", b, at)
        else:
            t, off, vaddr, _, filesz, _, flags = struct.unpack_from(e + "IIIIIII", b, at)
        if t == 1:
            loads.append((vaddr, off, filesz, flags))
    rw = next((off, off + fs) for (_, off, fs, fl) in loads if fl & 2 and not fl & 1)

    def file_offset(v):
        for vaddr, off, fs, _ in loads:
            if vaddr <= v < vaddr + fs:
                return off + v - vaddr
        return None

    def header(at, i):
        return struct.unpack_from(e + w + w, b, at + 2 * ptr * i)

    keep = [(0, 64 * 1024)]
    m = b.find(MAGIC, rw[0])
    while m % 16:
        m = b.find(MAGIC, m + 1)
    keep.append((m, m + 64 * 1024))
    runs = 0
    for at in range(rw[0], rw[1] - 12 * ptr, ptr):
        lens = [header(at, i)[1] for i in range(6)]
        decl = lens[1] == 40 and lens[2] in (5, 7) and lens[3] == 20
        by_name = lens[0] == 20 and lens[1] == 40 and lens[4] in (5, 7)
        if not (decl or by_name):
            continue
        runs += 1
        keep.append((at - 4 * ptr, at + 16 * ptr))
        for i in range(-2 if decl else 0, 4 if decl else 6):
            p, n = header(at, i)
            o = file_offset(p)
            if o is not None and n < 256:
                keep.append((o, o + n + 1))
    out = bytearray(len(b))
    for s, e in keep:
        out[s:e] = b[s:e]
    with gzip.open(dst, "wb", compresslevel=9) as f:
        f.write(bytes(out))
    print(f"{src}: {runs} header runs kept", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
