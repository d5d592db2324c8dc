#!/usr/bin/env python3
"""Build the Lambda layer archive `build/lambda-layer.zip` (`make layer`).

Installs the pinned runtime dependencies (`lambdas/requirements-layer.txt`) as wheels for
CPython 3.12 on arm64 into a temporary directory, adds the shared `drcommon` package and the RDS
CA bundle (`drcommon/rds-ca-bundle.pem`, what `drcommon.db` verifies servers with) and writes a
deterministic zip. Needs PyPI, and the AWS trust store unless `--ca-bundle` names a local copy.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components import lambda_code

RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
CA_BUNDLE_NAME = "rds-ca-bundle.pem"


def main(argv: list[str] | None = None) -> int:
    """Build the layer; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=lambda_code.LAYER_ARCHIVE)
    parser.add_argument(
        "--ca-bundle",
        type=Path,
        help=f"local copy of the RDS CA bundle (default: download {RDS_CA_BUNDLE_URL})",
    )
    args = parser.parse_args(argv)
    requirements = lambda_code.LAMBDAS_DIR / "requirements-layer.txt"
    with tempfile.TemporaryDirectory() as work:
        site_packages = Path(work) / "python"
        subprocess.run(  # noqa: S603 (fixed argv, no shell)
            lambda_code.pip_install_command(sys.executable, requirements, site_packages),
            check=True,
        )
        bundle = Path(work) / CA_BUNDLE_NAME
        if args.ca_bundle:
            shutil.copyfile(args.ca_bundle, bundle)
        else:
            with urllib.request.urlopen(RDS_CA_BUNDLE_URL, timeout=30) as response:
                bundle.write_bytes(response.read())
        if b"BEGIN CERTIFICATE" not in bundle.read_bytes():
            print(f"build_layer: {bundle} is not a PEM certificate bundle", file=sys.stderr)
            return 1
        members = lambda_code.layer_members(site_packages)
        members[f"python/{lambda_code.SHARED_PACKAGE}/{CA_BUNDLE_NAME}"] = bundle
        lambda_code.write_deterministic_zip(members, args.output)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"{args.output} ({len(members)} files, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
