#!/usr/bin/env python3
"""Writes seed corpora for the `layer` and `pkgdb` targets from the repository's testdata:
python3 seeds.py CORPUS_DIR  (makes CORPUS_DIR/layer and CORPUS_DIR/pkgdb)."""
import gzip, hashlib, io, json, os, sqlite3, struct, sys, tarfile, tempfile

here = os.path.dirname(os.path.abspath(__file__))
td = os.path.join(here, "..", "..", "..", "testdata")
out = sys.argv[1]
for d in ("layer", "pkgdb"):
    os.makedirs(os.path.join(out, d), exist_ok=True)


def put(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


def tar_of(files):
    """files: list of (name, bytes or None for a directory, or ('link', target))."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif isinstance(data, tuple):
                info.type = tarfile.SYMTYPE if data[0] == "link" else tarfile.LNKTYPE
                info.linkname = data[1]
                t.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o755 if name.endswith("bin/app") else 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def read(rel):
    with open(os.path.join(td, rel), "rb") as f:
        return f.read()


# layer: the vendored layer tars, plain.
pkgdb = os.path.join(td, "image-pkgdb")
for name in sorted(os.listdir(pkgdb)):
    p = os.path.join(pkgdb, name)
    if name.endswith(".tar.gz") and os.path.getsize(p) < 100_000:
        put("layer", name[:-3], gzip.decompress(read(os.path.join("image-pkgdb", name))))
    elif name.endswith(".tar"):
        put("layer", name, read(os.path.join("image-pkgdb", name)))

status = read("images/fixture/rootfs/var/lib/dpkg/status")
osrel = read("images/fixture/rootfs/usr/lib/os-release")
meta = read("images/fixture/rootfs/usr/local/lib/python3.11/dist-packages/PyYAML-6.0.1.dist-info/METADATA")
npm = read("images/fixture/rootfs/app/node_modules/lodash/package.json")
l1 = tar_of([("etc/", None), ("etc/os-release", ("link", "../usr/lib/os-release")),
             ("usr/lib/os-release", osrel), ("var/lib/dpkg/status", status),
             ("usr/local/lib/python3.11/dist-packages/PyYAML-6.0.1.dist-info/METADATA", meta)])
l2 = tar_of([("var/lib/dpkg/.wh.status", b""), ("app/node_modules/lodash/package.json", npm),
             ("app/.wh..wh..opq", b""), ("bin/sh", ("hard", "usr/lib/os-release")),
             ("var/lib/dpkg/status", status[: len(status) // 2])])
put("layer", "two-layers-l1.tar", l1)
put("layer", "two-layers-l2.tar", l2)


def sha(b):
    return hashlib.sha256(b).hexdigest()


# A docker save archive (legacy layout) of the two layers.
config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l1), "sha256:" + sha(l2)]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["fuzz:1"], "Layers": ["a/layer.tar", "b/layer.tar"]}]).encode()
put("layer", "docker-save.tar", tar_of([("manifest.json", manifest), ("config.json", config),
                                        ("a/layer.tar", l1), ("b/layer.tar", l2)]))

# An OCI image layout archive, second layer gzip-compressed.
l2gz = gzip.compress(l2, mtime=0)
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l1), "sha256:" + sha(l2)]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + sha(l1), "size": len(l1)},
                             {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha(l2gz), "size": len(l2gz)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + sha(man), "size": len(man),
                    "annotations": {"org.opencontainers.image.ref.name": "fuzz:1"}}]}).encode()
put("layer", "oci.tar", tar_of([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
                               + [("blobs/sha256/" + sha(b), b) for b in (cfg, man, l1, l2gz)]))

# pkgdb: flags byte (see palisade_image_fuzz::pkgdb_in), then the payload.
DPKG, STATUSD, APK, RPM_RAW, RPM_BLOBS, ROOTFS = 1, 2, 4, 8, 16, 32
DEB_OS, ALPINE_OS, PAYLOAD_OS = 64, 128, 192
put("pkgdb", "dpkg-tar", bytes([DPKG | DEB_OS]) + status)
put("pkgdb", "dpkg-rootfs", bytes([DPKG | ROOTFS | DEB_OS]) + status)
with tarfile.open(os.path.join(pkgdb, "distroless.tar")) as t:
    for m in t.getmembers():
        if "status.d/" in m.name and not m.name.endswith("md5sums") and m.isfile():
            put("pkgdb", "statusd-" + os.path.basename(m.name), bytes([STATUSD | DEB_OS]) + t.extractfile(m).read())
apk = read("image-pkgdb/apkdb")
put("pkgdb", "apk", bytes([APK | ALPINE_OS]) + apk[:20000])
put("pkgdb", "apk-rootfs", bytes([APK | ROOTFS]) + apk[:20000])
put("pkgdb", "os-release", bytes([PAYLOAD_OS]) + osrel)
with tarfile.open(os.path.join(pkgdb, "rpmdb.tar.gz")) as t:
    db = t.extractfile("var/lib/rpm/rpmdb.sqlite").read()
put("pkgdb", "rpm-raw", bytes([RPM_RAW]) + db)
with tempfile.NamedTemporaryFile(suffix=".sqlite") as f:
    f.write(db)
    f.flush()
    blobs = [r[0] for r in sqlite3.connect(f.name).execute("SELECT blob FROM Packages LIMIT 40")]
for i in range(0, 40, 8):
    part = blobs[i:i + 8]
    put("pkgdb", "rpm-blobs-%d" % i, bytes([RPM_BLOBS]) + b"".join(struct.pack("<I", len(b)) + b for b in part))
