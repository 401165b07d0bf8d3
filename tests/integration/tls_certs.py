"""Certificates for the TLS and HTTP/2 suites: self-signed ECDSA P-256 pairs made with the
openssl CLI into a test's folder, and a Vortex listener block that serves them."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_cert(folder: Path, name: str, cn: str, sans: list[str] | None = None) -> tuple[Path, Path]:
    """Writes folder/name-cert.pem and folder/name-key.pem; returns (cert, key)."""
    cert = folder / f"{name}-cert.pem"
    key = folder / f"{name}-key.pem"
    sans = sans or [cn]
    alt = ",".join(f"IP:{s}" if s[0].isdigit() else f"DNS:{s}" for s in sans)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={cn}", "-addext", f"subjectAltName={alt}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def tls_listener(port: int, certs: list[tuple[Path, Path, list[str]]], alpn: str = "[h2, http/1.1]",
                 name: str = "secure") -> str:
    """A `listeners:` block with one TLS listener on 127.0.0.1:port."""
    lines = ["listeners:", f"  - name: {name}", f'    address: "127.0.0.1:{port}"', "    tls:",
             "      certificates:"]
    for cert, key, names in certs:
        quoted = ", ".join(f'"{n}"' for n in names)
        lines.append(f'        - {{ cert: "{cert}", key: "{key}", server_names: [{quoted}] }}')
    lines.append(f"      alpn: {alpn}")
    return "\n".join(lines) + "\n"


def s_client(port: int, *args: str, servername: str | None = None, stdin: bytes = b"Q\n",
             timeout: float = 15.0) -> str:
    """Runs `openssl s_client` against 127.0.0.1:port; returns stdout + stderr as text."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args]
    if servername:
        cmd += ["-servername", servername]
    else:
        cmd += ["-noservername"]
    got = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    return got.stdout.decode(errors="replace") + got.stderr.decode(errors="replace")
