"""The cluster's certificates: one CA made and kept on the controller signs every H2O node's key.

Keystores are PKCS#12 files (Java 17 reads them under either store type, JKS or PKCS12). Their
store password is H2O's default (`h2oh2o`): H2O takes the HTTPS store password only on its
command line, which every local user sees in `ps` and which H2O writes to its log, so a
generated one would be no secret anyway. What protects a node's key is the keystore file's mode
(0640 root:h2o on the node, 0600 here).
"""

import datetime
import ipaddress
from dataclasses import dataclass

KEYSTORE_PASSWORD = "h2oh2o"
KEY_ALIAS = "h2o"
CA_ALIAS = "dmlctl-ca"
CA_DAYS = 3650
NODE_DAYS = 825


@dataclass(frozen=True)
class CertificateAuthority:
    key_pem: bytes
    cert_pem: bytes


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_ca(ca: CertificateAuthority):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(ca.key_pem, password=None)
    return key, x509.load_pem_x509_certificate(ca.cert_pem)


def _ca_key_usage():
    from cryptography import x509

    flags = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "encipher_only", "decipher_only"),
        False,
    )  # fmt: skip
    return x509.KeyUsage(key_cert_sign=True, crl_sign=True, **flags)


def make_ca(cluster: str) -> CertificateAuthority:
    """A new self-signed CA for CLUSTER (EC P-256)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"dmlctl CA {cluster}"[:64])])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return CertificateAuthority(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def node_keystore(ca: CertificateAuthority, host: str, address: str) -> bytes:
    """A PKCS#12 keystore holding a new key for HOST and its certificate, signed by CA.

    The certificate names the node's address (what clients connect to) and its inventory name;
    it serves both ends of H2O's node-to-node TLS and the HTTPS of its REST API.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key, ca_cert = _load_ca(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host)]
    try:
        names.insert(0, x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        if address != host:
            names.insert(0, x509.DNSName(address))
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address[:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=NODE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        KEY_ALIAS.encode(),
        key,
        cert,
        [ca_cert],
        BestAvailableEncryption(KEYSTORE_PASSWORD.encode()),
    )


def truststore(ca: CertificateAuthority) -> bytes:
    """A PKCS#12 truststore that Java trusts: the CA alone, so only its nodes are peers."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    cert = x509.load_pem_x509_certificate(ca.cert_pem)
    return pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(cert, CA_ALIAS.encode())],
        BestAvailableEncryption(KEYSTORE_PASSWORD.encode()),
    )


def keystore_names(keystore: bytes) -> list[str]:
    """The names (DNS and IP) the certificate in KEYSTORE is valid for."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    loaded = pkcs12.load_pkcs12(keystore, KEYSTORE_PASSWORD.encode())
    assert loaded.cert is not None
    san = loaded.cert.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return [str(name.value) for name in san.value]
