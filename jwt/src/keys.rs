//! An issuer's keys: the JWKs of its JWKS that can verify an asymmetric signature, each
//! tied to the algorithms its type and curve allow.

use std::collections::HashMap;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One verification key.
#[derive(Clone)]
pub struct Key {
    pub(crate) decoding: DecodingKey,
    /// What its `kty`/`crv` (and its `alg`, when the JWK names one) allow.
    pub(crate) algorithms: Vec<Algorithm>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Whether a token signed with `alg` may be checked with this key.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }
}

/// The usable keys of a JWKS document by `kid`, and what was skipped (for the log).
///
/// SECURITY: symmetric (`oct`) keys, keys for encryption (`use: enc`), keys without a
/// `kid`, on curves nothing here verifies, or that do not decode are skipped: a JWKS
/// can only ever add asymmetric verification keys. A `kid` listed twice is dropped
/// entirely (which key was meant is unknowable).
pub fn parse_jwks(body: &[u8]) -> Result<(HashMap<String, Key>, Vec<String>), String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys: HashMap<String, Key> = HashMap::new();
    let mut duplicated = Vec::new();
    let mut skipped = Vec::new();
    for value in document.keys {
        let jwk: Jwk = match serde_json::from_value(value) {
            Ok(jwk) => jwk,
            Err(e) => {
                skipped.push(format!("unreadable key: {e}"));
                continue;
            }
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            skipped.push("a key without `kid`".into());
            continue;
        };
        match key(&jwk) {
            Ok(key) => {
                if keys.insert(kid.clone(), key).is_some() {
                    duplicated.push(kid);
                }
            }
            Err(why) => skipped.push(format!("key `{kid}`: {why}")),
        }
    }
    for kid in duplicated {
        keys.remove(&kid);
        skipped.push(format!("key `{kid}` is listed twice"));
    }
    Ok((keys, skipped))
}

fn key(jwk: &Jwk) -> Result<Key, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("for encryption (`use: enc`)".into());
    }
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            EllipticCurve::P521 | EllipticCurve::Ed25519 => {
                return Err("an elliptic curve key on an unsupported curve".into());
            }
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => return Err("an OKP key on an unsupported curve".into()),
        },
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric (`oct`) key".into());
        }
    };
    // A JWK that names its algorithm allows only that one.
    let algorithms = match jwk.common.key_algorithm {
        None => by_type,
        Some(named) => {
            let named = jsonwebtoken::Algorithm::from_str_lossy(named)
                .ok_or_else(|| format!("`alg` {named:?} is not a signature algorithm"))?;
            if !by_type.contains(&named) {
                return Err(format!("`alg` {named:?} does not fit the key's type"));
            }
            vec![named]
        }
    };
    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| format!("does not decode: {e}"))?;
    Ok(Key {
        decoding,
        algorithms,
    })
}

/// `KeyAlgorithm` → `Algorithm`, for the signature algorithms both name.
trait FromKeyAlgorithm: Sized {
    fn from_str_lossy(alg: jsonwebtoken::jwk::KeyAlgorithm) -> Option<Self>;
}

impl FromKeyAlgorithm for Algorithm {
    fn from_str_lossy(alg: jsonwebtoken::jwk::KeyAlgorithm) -> Option<Self> {
        use std::str::FromStr;
        let name = serde_json::to_value(alg).ok()?;
        Algorithm::from_str(name.as_str()?).ok()
    }
}
