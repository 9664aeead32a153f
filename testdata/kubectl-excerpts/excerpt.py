#!/usr/bin/env python3
"""Writes a same-size copy of a Go ELF binary that keeps only the bytes the Kubernetes version
recovery reads (ELF header and program headers, the Go build info blob, the string headers of
the six k8s.io/{client-go,component-base} version variables and the strings they point to) and
zeroes everything else, gzipped. Usage: excerpt.py BINARY OUT.gz"""
import gzip
import struct
import sys

MAGIC = b"\xff Go buildinf:"


def main(src, dst):
    b = open(src, "rb").read()
    assert b[:4] == b"\x7fELF" and b[4] == 2 and b[5] == 1, "64-bit little-endian ELF only"
    phoff, = struct.unpack_from("<Q", b, 32)
    phentsize, phnum = struct.unpack_from("<HH", b, 54)
    loads = []
    for i in range(phnum):
        t, flags, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", b, phoff + i * phentsize)
        if t == 1:
            loads.append((vaddr, off, filesz, flags))
    rw = next((off, off + fs) for (_, off, fs, fl) in loads if fl & 2 and not fl & 1)

    def file_offset(v):
        for vaddr, off, fs, _ in loads:
            if vaddr <= v < vaddr + fs:
                return off + v - vaddr
        return None

    keep = [(0, 64 * 1024)]
    m = b.find(MAGIC, rw[0])
    while m % 16:
        m = b.find(MAGIC, m + 1)
    keep.append((m, m + 64 * 1024))
    runs = 0
    for at in range(rw[0], rw[1] - 96, 8):
        lens = [struct.unpack_from("<Q", b, at + 16 * i + 8)[0] for i in range(6)]
        decl = lens[1] == 40 and lens[2] in (5, 7) and lens[3] == 20
        by_name = lens[0] == 20 and lens[1] == 40 and lens[4] in (5, 7)
        if not (decl or by_name):
            continue
        runs += 1
        keep.append((at - 32, at + 96 + 32))
        for i in range(-2 if decl else 0, 4 if decl else 6):
            p, n = struct.unpack_from("<QQ", b, at + 16 * i)
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
