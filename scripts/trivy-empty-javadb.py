#!/usr/bin/env python3
"""Create an empty Trivy Java index DB in CACHE_DIR/java-db, so `trivy --skip-java-db-update`
starts offline (Trivy refuses to skip the download on a first run, and its jar analyzer needs
the DB open even for jars whose pom.properties name them). With no rows, jars without
pom.properties fall back to Trivy's file-name parsing, as with a DB that lacks them.

    trivy-empty-javadb.py CACHE_DIR

Table layout: aquasecurity/trivy-java-db pkg/db/db.go (schema version 1); metadata fields:
pkg/db/metadata.go. NextUpdate is far in the future so Trivy never tries to update it.
"""

import json
import os
import sqlite3
import sys


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = os.path.join(sys.argv[1], "java-db")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "trivy-java.db")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
        CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
                             FOREIGN KEY (artifact_id) REFERENCES artifacts(id));
        CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
        CREATE INDEX indices_artifact_idx ON indices(artifact_id);
        CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
        """
    )
    db.commit()
    db.close()
    with open(os.path.join(d, "metadata.json"), "w") as f:
        json.dump({"Version": 1, "NextUpdate": "2099-01-01T00:00:00Z",
                   "UpdatedAt": "2026-01-01T00:00:00Z", "DownloadedAt": "2026-01-01T00:00:00Z"}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
