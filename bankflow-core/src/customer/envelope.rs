//! Envelope encryption of KYC documents: the decorator every [`DocumentStore`] sits behind.
//!
//! Each document gets its own random AES-256-GCM data key; that key is wrapped by the
//! [`KeyProvider`]'s current key, and the wrapped key travels in the object's header with the
//! key id, so rotating the provider's key leaves old documents readable (the id names the
//! retired key that opens them) and a leaked object opens for nobody without the provider.
//!
//! Object layout, format version 1 (all lengths fixed except the key id):
//!
//! ```text
//! "BFDOC" | version u8 = 1 | key id length u8 | key id | wrap nonce (12) | wrapped data key (48)
//!         | data nonce (12) | SHA-256 of the plaintext (32) | ciphertext + tag (16)
//! ```
//!
//! The whole header and the storage key are the ciphertext's associated data: changing any
//! header byte, truncating the object or copying it under another key fails authentication.
//! The plaintext digest is checked after decryption as a second, independent checksum.
//!
//! Objects without the header (documents written before encryption existed) are refused
//! with an error that says so — never served as they are: a plaintext object an attacker
//! planted in the bucket must not pass for a genuine document.

use std::sync::Arc;

use async_trait::async_trait;

use sha2::{Digest, Sha256};

use crate::crypto::{
    decrypt_with, encrypt_with, random_array, unwrap_key, wrap_key, DataKey, KeyProvider, Sealed,
    KEY_ID_LEN_MAX, KEY_LEN, NONCE_LEN,
};
use crate::customer::documents::{sniff_content_type, DocumentStore, DOCUMENT_SIZE_MAX_BYTES};
use crate::error::{BankError, BankResult};

/// First bytes of every encrypted document.
pub const DOCUMENT_ENVELOPE_MAGIC: &[u8; 5] = b"BFDOC";
/// The envelope format this engine writes (and the newest it reads).
pub const DOCUMENT_ENVELOPE_VERSION: u8 = 1;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// SHA-256 digest length.
const DIGEST_LEN: usize = 32;
/// Most bytes the envelope adds to a document.
pub const DOCUMENT_ENVELOPE_OVERHEAD_MAX_BYTES: usize = DOCUMENT_ENVELOPE_MAGIC.len()
    + 2
    + KEY_ID_LEN_MAX
    + NONCE_LEN
    + KEY_LEN
    + TAG_LEN
    + NONCE_LEN
    + DIGEST_LEN
    + TAG_LEN;
/// Largest stored object a document store must accept and return: the largest document
/// plus the envelope. Adapters bound their reads by it.
pub const DOCUMENT_OBJECT_SIZE_MAX_BYTES: usize =
    DOCUMENT_SIZE_MAX_BYTES + DOCUMENT_ENVELOPE_OVERHEAD_MAX_BYTES;

/// A [`DocumentStore`] that encrypts on `put` and authenticates and decrypts on `get`; the
/// inner store only ever sees ciphertext. `Bank::builder` wraps whichever store it is given
/// in one, so no document reaches a store unencrypted.
pub struct EncryptedDocuments {
    inner: Arc<dyn DocumentStore>,
    keys: Arc<dyn KeyProvider>,
}

impl EncryptedDocuments {
    /// Encrypts documents stored in `inner` under data keys wrapped by `keys`.
    pub fn new(inner: Arc<dyn DocumentStore>, keys: Arc<dyn KeyProvider>) -> EncryptedDocuments {
        EncryptedDocuments { inner, keys }
    }

    /// The object stored for `plaintext` under `key`.
    pub fn seal(&self, key: &str, plaintext: &[u8]) -> BankResult<Vec<u8>> {
        let data_key = DataKey::random()?;
        let wrapped = wrap_key(&*self.keys, &data_key, &wrap_aad(key))?;
        // The nonce is chosen first: it is part of the header, and the header is the AAD.
        let data_nonce: [u8; NONCE_LEN] = random_array()?;
        let header = header_bytes(&wrapped, &data_nonce, &Sha256::digest(plaintext))?;
        let body = encrypt_with(&data_key, &data_nonce, plaintext, &data_aad(key, &header))?;
        let mut object = header;
        object.extend_from_slice(&body);
        Ok(object)
    }

    /// The plaintext of an object stored under `key`, or a typed error when it is not an
    /// envelope, names an unknown key, or was altered or truncated.
    pub fn open(&self, key: &str, object: &[u8]) -> BankResult<Vec<u8>> {
        let env = parse(key, object)?;
        if self.keys.key(&env.wrapped.key_id)?.is_none() {
            return Err(BankError::internal(format!(
                "document {key} is sealed under unknown key id {}",
                env.wrapped.key_id
            )));
        }
        let data_key =
            unwrap_key(&*self.keys, &env.wrapped, &wrap_aad(key)).map_err(|_| tampered(key))?;
        let plaintext = decrypt_with(
            &data_key,
            env.data_nonce,
            env.body,
            &data_aad(key, env.header),
        )
        .map_err(|_| tampered(key))?;
        if Sha256::digest(&plaintext).as_slice() != env.digest {
            return Err(BankError::internal(format!(
                "document {key} failed its checksum"
            )));
        }
        Ok(plaintext)
    }
}

impl EncryptedDocuments {
    /// Key rotation, lazily: a document whose data key an older ring key wrapped is stored
    /// again under the current key when it is read. Best effort: a failed write leaves the
    /// old (still readable) object for the next read to retry.
    async fn rewrap_if_stale(&self, key: &str, object: &[u8], plaintext: &[u8]) {
        let stale = match (parse(key, object), self.keys.current()) {
            (Ok(env), Ok((current, _))) => env.wrapped.key_id != current,
            _ => false,
        };
        if !stale {
            return;
        }
        let rewrapped = self.seal(key, plaintext);
        if let Err(e) = match rewrapped {
            Ok(fresh) => self.inner.put(key, &fresh).await,
            Err(e) => Err(e),
        } {
            tracing::warn!(error = %e, "re-wrapping a document under the current key failed");
        }
    }
}

#[async_trait]
impl DocumentStore for EncryptedDocuments {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        if bytes.len() > DOCUMENT_SIZE_MAX_BYTES {
            return Err(BankError::LimitExceeded(format!(
                "a document has at most {DOCUMENT_SIZE_MAX_BYTES} bytes"
            )));
        }
        let object = self.seal(key, bytes)?;
        self.inner.put(key, &object).await
    }

    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        let Some(object) = self.inner.get(key).await? else {
            return Ok(None);
        };
        let plaintext = self.open(key, &object)?;
        self.rewrap_if_stale(key, &object, &plaintext).await;
        Ok(Some(plaintext))
    }

    async fn delete(&self, key: &str) -> BankResult<()> {
        self.inner.delete(key).await
    }
}

/// An object's parts, borrowed from it.
struct Envelope<'a> {
    header: &'a [u8],
    wrapped: Sealed,
    data_nonce: &'a [u8],
    digest: &'a [u8],
    body: &'a [u8],
}

fn parse<'a>(key: &str, object: &'a [u8]) -> BankResult<Envelope<'a>> {
    let Some(rest) = object.strip_prefix(DOCUMENT_ENVELOPE_MAGIC.as_slice()) else {
        return Err(not_an_envelope(key, object));
    };
    let mut cur = rest;
    let version = take(&mut cur, 1).ok_or_else(|| tampered(key))?[0];
    if version != DOCUMENT_ENVELOPE_VERSION {
        return Err(BankError::internal(format!(
            "document {key} has envelope version {version}; this engine reads version {DOCUMENT_ENVELOPE_VERSION}"
        )));
    }
    let id_len = usize::from(take(&mut cur, 1).ok_or_else(|| tampered(key))?[0]);
    let (id, wrap_nonce, wrapped_key, data_nonce, digest) = (|| {
        Some((
            take(&mut cur, id_len)?,
            take(&mut cur, NONCE_LEN)?,
            take(&mut cur, KEY_LEN + TAG_LEN)?,
            take(&mut cur, NONCE_LEN)?,
            take(&mut cur, DIGEST_LEN)?,
        ))
    })()
    .ok_or_else(|| tampered(key))?;
    if cur.len() < TAG_LEN {
        return Err(tampered(key));
    }
    let key_id = std::str::from_utf8(id).map_err(|_| tampered(key))?;
    Ok(Envelope {
        header: &object[..object.len() - cur.len()],
        wrapped: Sealed {
            key_id: key_id.to_string(),
            nonce: wrap_nonce.to_vec(),
            ciphertext: wrapped_key.to_vec(),
        },
        data_nonce,
        digest,
        body: cur,
    })
}

/// The first `n` bytes of `cur`, advancing it; `None` when fewer remain.
fn take<'a>(cur: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = cur.split_at_checked(n)?;
    *cur = tail;
    Some(head)
}

fn header_bytes(
    wrapped: &Sealed,
    data_nonce: &[u8; NONCE_LEN],
    digest: &[u8],
) -> BankResult<Vec<u8>> {
    let id = wrapped.key_id.as_bytes();
    let id_len = u8::try_from(id.len())
        .ok()
        .filter(|l| usize::from(*l) <= KEY_ID_LEN_MAX)
        .ok_or_else(|| BankError::internal("key id too long for a document header"))?;
    if wrapped.nonce.len() != NONCE_LEN || wrapped.ciphertext.len() != KEY_LEN + TAG_LEN {
        return Err(BankError::internal("unexpected wrapped key shape"));
    }
    let mut h = Vec::with_capacity(DOCUMENT_ENVELOPE_OVERHEAD_MAX_BYTES);
    h.extend_from_slice(DOCUMENT_ENVELOPE_MAGIC);
    h.push(DOCUMENT_ENVELOPE_VERSION);
    h.push(id_len);
    h.extend_from_slice(id);
    h.extend_from_slice(&wrapped.nonce);
    h.extend_from_slice(&wrapped.ciphertext);
    h.extend_from_slice(data_nonce);
    h.extend_from_slice(digest);
    Ok(h)
}

/// The wrapped data key is bound to its document: it will not open under another key.
fn wrap_aad(key: &str) -> String {
    format!("document-key:{key}")
}

/// Length-prefixed storage key, then the header.
fn data_aad(key: &str, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + key.len() + header.len());
    aad.extend_from_slice(&(key.len() as u64).to_be_bytes());
    aad.extend_from_slice(key.as_bytes());
    aad.extend_from_slice(header);
    aad
}

fn tampered(key: &str) -> BankError {
    BankError::internal(format!(
        "document {key} failed authentication: it was altered or truncated"
    ))
}

fn not_an_envelope(key: &str, object: &[u8]) -> BankError {
    if sniff_content_type(object).is_ok() {
        BankError::internal(format!(
            "document {key} is stored unencrypted (written before envelope encryption); \
             it is refused rather than served unauthenticated — upload it again"
        ))
    } else {
        tampered(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::StaticKeyRing;
    use crate::customer::MemoryDocumentStore;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', b's',
        b'e', b'c', b'r', b'e', b't', b' ', b'p', b'a', b's', b's', b'p', b'o', b'r', b't',
    ];

    fn ring(id: &str) -> StaticKeyRing {
        StaticKeyRing::new(id, DataKey::random().unwrap()).unwrap()
    }

    fn over(keys: StaticKeyRing) -> (Arc<MemoryDocumentStore>, EncryptedDocuments) {
        let raw = Arc::new(MemoryDocumentStore::default());
        let enc = EncryptedDocuments::new(raw.clone(), Arc::new(keys));
        (raw, enc)
    }

    fn is_internal_with(e: BankError, needle: &str) -> bool {
        matches!(&e, BankError::Internal(m) if m.contains(needle))
    }

    #[tokio::test]
    async fn the_inner_store_holds_ciphertext_and_reads_round_trip() {
        let (raw, enc) = over(ring("k1"));
        enc.put("kyc/a/1", PNG).await.unwrap();
        let object = raw.get("kyc/a/1").await.unwrap().unwrap();
        assert!(object.starts_with(b"BFDOC\x01\x02k1"));
        assert!(!object.windows(8).any(|w| PNG.windows(8).any(|p| p == w)));
        assert_eq!(enc.get("kyc/a/1").await.unwrap().unwrap(), PNG);
        assert!(enc.get("kyc/a/none").await.unwrap().is_none());
        enc.delete("kyc/a/1").await.unwrap();
        assert!(raw.get("kyc/a/1").await.unwrap().is_none());
        // Two sealings of one document share nothing: fresh data key and nonces each time.
        assert_ne!(enc.seal("k", PNG).unwrap(), enc.seal("k", PNG).unwrap());
    }

    #[tokio::test]
    async fn every_altered_byte_and_every_truncation_is_refused() {
        let (raw, enc) = over(ring("k1"));
        enc.put("kyc/a/1", PNG).await.unwrap();
        let object = raw.get("kyc/a/1").await.unwrap().unwrap();
        for i in 0..object.len() {
            let mut t = object.clone();
            t[i] ^= 0x01;
            assert!(
                enc.open("kyc/a/1", &t).is_err(),
                "flipped byte {i} accepted"
            );
        }
        for len in 0..object.len() {
            let e = enc.open("kyc/a/1", &object[..len]).unwrap_err();
            assert_eq!(e.code(), "internal_error", "truncated to {len}");
        }
        let e = enc.open("kyc/a/1", &[object.as_slice(), b"x"].concat());
        assert!(is_internal_with(e.unwrap_err(), "failed authentication"));
        // Copied under another document's key: refused.
        let e = enc.open("kyc/b/2", &object).unwrap_err();
        assert!(is_internal_with(e, "failed authentication"));
    }

    #[tokio::test]
    async fn plaintext_written_before_encryption_is_refused_and_said_so() {
        let (raw, enc) = over(ring("k1"));
        raw.put("kyc/a/old", PNG).await.unwrap();
        let e = enc.get("kyc/a/old").await.unwrap_err();
        assert!(is_internal_with(e, "stored unencrypted"));
        raw.put("kyc/a/junk", b"junk").await.unwrap();
        let e = enc.get("kyc/a/junk").await.unwrap_err();
        assert!(is_internal_with(e, "failed authentication"));
    }

    #[test]
    fn a_rotated_ring_still_opens_old_documents_and_seals_new_ones_under_the_new_key() {
        let k1 = ring("k1");
        let enc = EncryptedDocuments::new(
            Arc::new(MemoryDocumentStore::default()),
            Arc::new(k1.clone()),
        );
        let old = enc.seal("kyc/a/1", PNG).unwrap();
        let rotated = k1.rotate_to("k2", DataKey::random().unwrap()).unwrap();
        let enc =
            EncryptedDocuments::new(Arc::new(MemoryDocumentStore::default()), Arc::new(rotated));
        assert_eq!(enc.open("kyc/a/1", &old).unwrap(), PNG);
        let new = enc.seal("kyc/a/2", PNG).unwrap();
        assert!(new.starts_with(b"BFDOC\x01\x02k2"));
        // A provider without the old key: a clear error naming the id, not garbage.
        let other = EncryptedDocuments::new(
            Arc::new(MemoryDocumentStore::default()),
            Arc::new(ring("k9")),
        );
        assert!(is_internal_with(
            other.open("kyc/a/1", &old).unwrap_err(),
            "unknown key id k1"
        ));
    }

    #[test]
    fn a_newer_envelope_version_is_refused_by_name() {
        let (_, enc) = over(ring("k1"));
        let mut object = enc.seal("kyc/a/1", PNG).unwrap();
        object[DOCUMENT_ENVELOPE_MAGIC.len()] = 2;
        let e = enc.open("kyc/a/1", &object).unwrap_err();
        assert!(is_internal_with(e, "envelope version 2"));
    }

    #[test]
    fn an_oversized_document_is_refused_before_sealing() {
        let (_, enc) = over(ring("k1"));
        let big = vec![0u8; DOCUMENT_SIZE_MAX_BYTES + 1];
        let e = futures::executor::block_on(enc.put("kyc/a/big", &big)).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded");
        let biggest = enc
            .seal("kyc/a/max", &big[..DOCUMENT_SIZE_MAX_BYTES])
            .unwrap();
        assert!(biggest.len() <= DOCUMENT_OBJECT_SIZE_MAX_BYTES);
    }
}
