#!/usr/bin/env python3
"""Pack layer directories into image archives, reproducibly (fixed mtimes, owners, order).

    pack-image.py --docker OUT.tar --oci OUT-oci.tar [--tag NAME:TAG] LAYERDIR...

--docker writes a `docker save` archive (manifest.json, <config>.json, <id>/layer.tar,
uncompressed layers as `docker save` before Docker 25 writes them); --oci writes an OCI image
layout as a tar (oci-layout, index.json, blobs/sha256/...) with gzip layers, as registries
serve them. Either may be omitted. Each LAYERDIR becomes one layer, in order; a file named
`.wh.NAME` in a layer directory is written as the whiteout entry it spells. Used by
scripts/bench-image.sh and scripts/compare-trivy-image.sh; standard library only.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

MTIME = 1700000000  # fixed, so two runs give the same digests


def layer_tar(root, out):
    """Write ROOT's tree to OUT as an uncompressed tar; return (sha256 hex, size)."""
    digest = hashlib.sha256()
    size = 0

    class Hashing(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            nonlocal size
            digest.update(b)
            size += len(b)
            return out.write(b)

    sink = io.BufferedWriter(Hashing(), buffer_size=1 << 20)
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            names = sorted(dirnames + filenames)
            for name in names:
                full = os.path.join(dirpath, name)
                arc = os.path.relpath(full, root)
                info = tar.gettarinfo(full, arcname=arc)
                info.mtime = MTIME
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    sink.flush()
    return digest.hexdigest(), size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docker")
    ap.add_argument("--oci")
    ap.add_argument("--tag", default="palisade-bench:latest")
    ap.add_argument("layers", nargs="+")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pack-image-", dir=os.path.dirname(os.path.abspath(a.docker or a.oci)))
    diff_ids, raw = [], []
    for i, d in enumerate(a.layers):
        path = os.path.join(work, f"layer{i}.tar")
        with open(path, "wb") as f:
            h, _ = layer_tar(d, f)
        diff_ids.append(h)
        raw.append(path)

    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{h}" for h in diff_ids]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": f"layer {d}"} for d in a.layers],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()

    def add_bytes(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = MTIME
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    def add_file(tar, name, path):
        info = tarfile.TarInfo(name)
        info.size = os.path.getsize(path)
        info.mtime = MTIME
        info.mode = 0o644
        with open(path, "rb") as f:
            tar.addfile(info, f)

    if a.docker:
        with tarfile.open(a.docker, "w", format=tarfile.PAX_FORMAT) as tar:
            layer_names = []
            for h, path in zip(diff_ids, raw):
                name = f"{h}/layer.tar"
                add_file(tar, name, path)
                layer_names.append(name)
            add_bytes(tar, f"{config_hex}.json", config_bytes)
            manifest = [{"Config": f"{config_hex}.json", "RepoTags": [a.tag], "Layers": layer_names}]
            add_bytes(tar, "manifest.json", json.dumps(manifest).encode())

    if a.oci:
        layers_desc, gz_paths = [], []
        for h, path in zip(diff_ids, raw):
            gz_path = path + ".gz"
            with open(path, "rb") as src, open(gz_path, "wb") as dst:
                # mtime=0 and no file name: the compressed digest is reproducible too.
                with gzip.GzipFile(filename="", mode="wb", fileobj=dst, mtime=0, compresslevel=6) as z:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        z.write(chunk)
            with open(gz_path, "rb") as f:
                gh = hashlib.file_digest(f, "sha256").hexdigest()
            layers_desc.append({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": f"sha256:{gh}",
                "size": os.path.getsize(gz_path),
            })
            gz_paths.append((gh, gz_path))
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{config_hex}",
                "size": len(config_bytes),
            },
            "layers": layers_desc,
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        manifest_hex = hashlib.sha256(manifest_bytes).hexdigest()
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{manifest_hex}",
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": a.tag.split(":")[-1]},
            }],
        }
        with tarfile.open(a.oci, "w", format=tarfile.PAX_FORMAT) as tar:
            add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            add_bytes(tar, "index.json", json.dumps(index).encode())
            add_bytes(tar, f"blobs/sha256/{config_hex}", config_bytes)
            add_bytes(tar, f"blobs/sha256/{manifest_hex}", manifest_bytes)
            for gh, gz_path in gz_paths:
                add_file(tar, f"blobs/sha256/{gh}", gz_path)
        for _, gz_path in gz_paths:
            os.remove(gz_path)

    for path in raw:
        os.remove(path)
    os.rmdir(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
