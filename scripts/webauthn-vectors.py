#!/usr/bin/env python3
"""Known-answer vectors for core/src/webauthn, made by an independent
implementation: OpenSSL (through Python's `cryptography`) signs, a CBOR
encoder written here from RFC 8949 encodes. The Rust verifier must accept
them byte for byte. Keys are fixed but OpenSSL's ECDSA nonces are random, so
the output is committed (core/src/webauthn/testdata/vectors.json); this
script regenerates it.
    python3 scripts/webauthn-vectors.py > core/src/webauthn/testdata/vectors.json
"""
import base64, hashlib, json, struct
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import hashes, serialization

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)

def cbor(v):
    if isinstance(v, bool): raise TypeError
    if isinstance(v, int): return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes): return head(2, len(v)) + v
    if isinstance(v, str): b = v.encode(); return head(3, len(b)) + b
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)

RP_ID = "login.example.com"
ORIGIN = "https://login.example.com"
REG_CHALLENGE = bytes(range(32))
GET_CHALLENGE = bytes(range(32, 64))

def vector(name, priv, cose, sign):
    cred_id = hashlib.sha256(name.encode()).digest()
    rp_hash = hashlib.sha256(RP_ID.encode()).digest()
    flags_reg = 0x01 | 0x04 | 0x08 | 0x10 | 0x40  # UP UV BE BS AT
    auth_reg = (rp_hash + bytes([flags_reg]) + struct.pack(">I", 0) + bytes(16)
                + struct.pack(">H", len(cred_id)) + cred_id + cbor(cose))
    cdj_reg = json.dumps({"type": "webauthn.create", "challenge": b64u(REG_CHALLENGE),
                          "origin": ORIGIN, "crossOrigin": False}, separators=(",", ":")).encode()
    att = cbor({"fmt": "none", "attStmt": {}, "authData": auth_reg})
    auth_get = rp_hash + bytes([0x01 | 0x04 | 0x08 | 0x10]) + struct.pack(">I", 7)
    cdj_get = json.dumps({"type": "webauthn.get", "challenge": b64u(GET_CHALLENGE),
                          "origin": ORIGIN, "crossOrigin": False}, separators=(",", ":")).encode()
    sig = sign(auth_get + hashlib.sha256(cdj_get).digest())
    return {
        "name": name,
        "rp_id": RP_ID, "origin": ORIGIN,
        "registration_challenge": b64u(REG_CHALLENGE),
        "assertion_challenge": b64u(GET_CHALLENGE),
        "credential_id": b64u(cred_id),
        "public_key_cose": b64u(cbor(cose)),
        "registration": {"id": b64u(cred_id), "rawId": b64u(cred_id), "type": "public-key",
                         "response": {"clientDataJSON": b64u(cdj_reg), "attestationObject": b64u(att)}},
        "assertion": {"id": b64u(cred_id), "rawId": b64u(cred_id), "type": "public-key",
                      "response": {"clientDataJSON": b64u(cdj_get), "authenticatorData": b64u(auth_get),
                                   "signature": b64u(sig), "userHandle": b64u(b"user-42")}},
        "assertion_sign_count": 7,
    }

ec_priv = ec.derive_private_key(0x1f2e3d4c5b6a79880102030405060708090a0b0c0d0e0f101112131415161718, ec.SECP256R1())
nums = ec_priv.public_key().public_numbers()
es256 = vector("es256-openssl", ec_priv,
               {1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")},
               lambda m: ec_priv.sign(m, ec.ECDSA(hashes.SHA256())))
ed_priv = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
ed_pub = ed_priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
eddsa = vector("eddsa-openssl", ed_priv, {1: 1, 3: -8, -1: 6, -2: ed_pub}, ed_priv.sign)
print(json.dumps([es256, eddsa], indent=1))
