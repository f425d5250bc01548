//! Cryptographic helpers and the key port: AES-256-GCM sealing of sensitive fields (SSN,
//! TOTP secrets), data-key wrapping for envelope-encrypted documents, SHA-256 digests for
//! stored tokens, and the OS random source.
//!
//! Randomness comes from the operating system (`getrandom`), never from the engine's
//! deterministic id generator: secrets must not be predictable from a seed.

use std::collections::HashMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{BankError, BankResult};

/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-256 key length.
pub const KEY_LEN: usize = 32;
/// Longest key id accepted (it is stored next to every ciphertext).
pub const KEY_ID_LEN_MAX: usize = 64;

/// A 256-bit data-encryption key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> DataKey {
        DataKey(bytes)
    }

    /// Parses 64 hex characters (how keys come from configuration).
    pub fn from_hex(s: &str) -> BankResult<DataKey> {
        let v = hex::decode(s.trim())
            .map_err(|_| BankError::validation("key", "a key is 64 hex characters"))?;
        let bytes: [u8; KEY_LEN] = v
            .try_into()
            .map_err(|_| BankError::validation("key", "a key is 64 hex characters"))?;
        Ok(DataKey(bytes))
    }

    /// A fresh random key.
    pub fn random() -> BankResult<DataKey> {
        Ok(DataKey(random_array()?))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Port: where encryption keys come from (a KMS, configuration, a key file...).
///
/// New data is sealed under the current key; data sealed under an older key id still opens
/// as long as the provider knows that id, so keys rotate without re-encrypting everything.
pub trait KeyProvider: Send + Sync + 'static {
    /// The key id and key that new ciphertexts use.
    fn current(&self) -> BankResult<(String, DataKey)>;
    /// A key by id (current or retired); `None` when unknown.
    fn key(&self, key_id: &str) -> BankResult<Option<DataKey>>;
}

/// A key ring held in memory: one current key plus retired keys that still decrypt.
#[derive(Clone, Debug)]
pub struct StaticKeyRing {
    current: String,
    keys: HashMap<String, DataKey>,
}

impl StaticKeyRing {
    /// A ring whose current key is `key` under `key_id`.
    pub fn new(key_id: &str, key: DataKey) -> BankResult<StaticKeyRing> {
        validate_key_id(key_id)?;
        let mut keys = HashMap::new();
        keys.insert(key_id.to_string(), key);
        Ok(StaticKeyRing {
            current: key_id.to_string(),
            keys,
        })
    }

    /// A ring with one random key: data sealed with it is lost when the process ends, so it
    /// is only for tests and throwaway engines. Production adapters configure real keys.
    pub fn ephemeral() -> BankResult<StaticKeyRing> {
        StaticKeyRing::new("ephemeral", DataKey::random()?)
    }

    /// Adds a retired key that still decrypts.
    pub fn with_retired(mut self, key_id: &str, key: DataKey) -> BankResult<StaticKeyRing> {
        validate_key_id(key_id)?;
        if self.keys.contains_key(key_id) {
            return Err(BankError::Duplicate("key id"));
        }
        self.keys.insert(key_id.to_string(), key);
        Ok(self)
    }

    /// How many keys besides the current one the ring holds (they open old data only).
    pub fn retired_key_count(&self) -> usize {
        self.keys.len().saturating_sub(1)
    }

    /// Makes `key_id` (added before) the current key; the old current key stays for decryption.
    pub fn rotate_to(mut self, key_id: &str, key: DataKey) -> BankResult<StaticKeyRing> {
        validate_key_id(key_id)?;
        self.keys.insert(key_id.to_string(), key);
        self.current = key_id.to_string();
        Ok(self)
    }
}

fn validate_key_id(key_id: &str) -> BankResult<()> {
    if key_id.is_empty()
        || key_id.len() > KEY_ID_LEN_MAX
        || !key_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(BankError::validation(
            "key_id",
            "1 to 64 printable ASCII characters",
        ));
    }
    Ok(())
}

impl KeyProvider for StaticKeyRing {
    fn current(&self) -> BankResult<(String, DataKey)> {
        let k = self
            .keys
            .get(&self.current)
            .ok_or_else(|| BankError::internal("current key missing"))?;
        Ok((self.current.clone(), k.clone()))
    }

    fn key(&self, key_id: &str) -> BankResult<Option<DataKey>> {
        Ok(self.keys.get(key_id).cloned())
    }
}

/// A sealed (encrypted and authenticated) value as stored: key id, nonce, ciphertext+tag.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// 12-byte AES-GCM nonce, unique per sealing.
    pub nonce: Vec<u8>,
    /// Ciphertext with the 16-byte tag appended.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed(key={}, {} bytes)",
            self.key_id,
            self.ciphertext.len()
        )
    }
}

/// Encrypts `plaintext` under the provider's current key. `aad` binds the ciphertext to its
/// place (e.g. `ssn:<customer id>`), so a ciphertext copied into another row will not open.
pub fn seal(keys: &dyn KeyProvider, plaintext: &[u8], aad: &str) -> BankResult<Sealed> {
    let (key_id, key) = keys.current()?;
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let ciphertext = encrypt_with(&key, &nonce, plaintext, aad.as_bytes())?;
    Ok(Sealed {
        key_id,
        nonce: nonce.to_vec(),
        ciphertext,
    })
}

/// Decrypts a sealed value; `Internal` when the key is unknown or the data was altered.
pub fn open(keys: &dyn KeyProvider, sealed: &Sealed, aad: &str) -> BankResult<Vec<u8>> {
    let key = keys
        .key(&sealed.key_id)?
        .ok_or_else(|| BankError::internal(format!("unknown key id {}", sealed.key_id)))?;
    decrypt_with(&key, &sealed.nonce, &sealed.ciphertext, aad.as_bytes())
}

/// Envelope encryption, step one: wraps a fresh data key under the provider's current key
/// (the data key itself never leaves this module unsealed).
pub fn wrap_key(keys: &dyn KeyProvider, data_key: &DataKey, aad: &str) -> BankResult<Sealed> {
    seal(keys, &data_key.0, aad)
}

/// Opens a data key wrapped by [`wrap_key`] (by its key id: retired keys still open).
pub fn unwrap_key(keys: &dyn KeyProvider, wrapped: &Sealed, aad: &str) -> BankResult<DataKey> {
    let bytes: [u8; KEY_LEN] = open(keys, wrapped, aad)?
        .try_into()
        .map_err(|_| BankError::internal("a wrapped data key has the wrong length"))?;
    Ok(DataKey(bytes))
}

/// AES-256-GCM under `key`: the ciphertext with its tag. `nonce` must never repeat under
/// one key (callers draw it from [`random_array`]).
pub fn encrypt_with(
    key: &DataKey,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    aad: &[u8],
) -> BankResult<Vec<u8>> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0));
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| BankError::internal("encryption failed"))
}

/// Opens what [`encrypt_with`] made; `Internal` when the nonce is malformed or the
/// ciphertext, its tag or `aad` were altered.
pub fn decrypt_with(
    key: &DataKey,
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> BankResult<Vec<u8>> {
    if nonce.len() != NONCE_LEN {
        return Err(BankError::internal("sealed value has a bad nonce"));
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0));
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| BankError::internal("sealed value failed authentication"))
}

/// Fills an array from the OS random source.
pub fn random_array<const N: usize>() -> BankResult<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| BankError::internal(format!("random source: {e}")))?;
    Ok(buf)
}

/// A random token of 32 bytes, hex-encoded (256 bits: unguessable, safe to look up by hash).
pub fn random_token() -> BankResult<String> {
    Ok(hex::encode(random_array::<32>()?))
}

/// A uniformly random decimal code of `digits` digits (leading zeros kept).
pub fn random_digits(digits: u32) -> BankResult<String> {
    debug_assert!((1..=9).contains(&digits));
    let modulus = 10u32.pow(digits);
    // Rejection sampling: values in the incomplete last block would bias small codes.
    let zone = u32::MAX - (u32::MAX % modulus);
    for _ in 0..64 {
        let v = u32::from_be_bytes(random_array()?);
        if v < zone {
            return Ok(format!("{:0width$}", v % modulus, width = digits as usize));
        }
    }
    Err(BankError::internal(
        "random source kept returning out-of-range values",
    ))
}

/// Plain SHA-256 of `bytes`, hex-encoded (the checksum anyone can recompute from a file).
pub fn sha256_hex_plain(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the parts (length-prefixed, so part boundaries matter), hex-encoded.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key` (the `hmac` crate; any key length).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // `Hmac` takes keys of every length (longer ones are hashed, as the RFC says): the
    // length error `new_from_slice` can report exists only for fixed-key MACs.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// A 256-bit key for `purpose`, derived from the provider's key `key_id` (the current key
/// when `None`) as HMAC-SHA256(data key, "bankflow/" + purpose): the data key itself never
/// leaves this module, and a derived key opens nothing the data key sealed. `Ok(None)` when
/// the provider does not know `key_id`.
pub fn derive_key(
    keys: &dyn KeyProvider,
    key_id: Option<&str>,
    purpose: &str,
) -> BankResult<Option<(String, [u8; KEY_LEN])>> {
    let (id, key) = match key_id {
        None => keys.current()?,
        Some(id) => match keys.key(id)? {
            Some(k) => (id.to_string(), k),
            None => return Ok(None),
        },
    };
    let label = format!("bankflow/{purpose}");
    Ok(Some((id, hmac_sha256(&key.0, label.as_bytes()))))
}

/// Equality that takes the same time wherever the inputs first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_aad() {
        let ring = StaticKeyRing::new("k1", DataKey::random().unwrap()).unwrap();
        let s = seal(&ring, b"123-45-6789", "ssn:a").unwrap();
        assert_eq!(open(&ring, &s, "ssn:a").unwrap(), b"123-45-6789");
        assert!(open(&ring, &s, "ssn:b").is_err());
        let mut t = s.clone();
        t.ciphertext[0] ^= 1;
        assert!(open(&ring, &t, "ssn:a").is_err());
    }

    #[test]
    fn rotation_keeps_old_keys_readable() {
        let old = DataKey::random().unwrap();
        let ring = StaticKeyRing::new("k1", old.clone()).unwrap();
        let s = seal(&ring, b"x", "a").unwrap();
        let ring = ring.rotate_to("k2", DataKey::random().unwrap()).unwrap();
        assert_eq!(open(&ring, &s, "a").unwrap(), b"x");
        assert_eq!(seal(&ring, b"y", "a").unwrap().key_id, "k2");
        let other = StaticKeyRing::new("k2", DataKey::random().unwrap()).unwrap();
        assert!(open(&other, &s, "a").is_err());
    }

    #[test]
    fn codes_have_fixed_width() {
        for _ in 0..50 {
            let c = random_digits(6).unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ac"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
