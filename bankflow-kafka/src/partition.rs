//! Which partition a key goes to: Kafka's own default partitioner (murmur2 of the key bytes,
//! sign bit cleared, modulo the partition count), so a Java, librdkafka (`murmur2_random`) or
//! kafka-python producer keying by the same aggregate id picks the same partition as we do.

const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// MurmurHash2 (32-bit) exactly as Kafka's `Utils.murmur2` computes it.
pub fn murmur2(data: &[u8]) -> u32 {
    // Kafka hashes the length as a Java int; keys longer than 2 GiB do not occur.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= u32::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition of `key` among `partitions` (at least one).
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let n = partitions.max(1) as u32;
    ((murmur2(key) & 0x7fff_ffff) % n) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kafkas_reference_values() {
        // Kafka's UtilsTest.testMurmur2 pairs, as signed Java ints.
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (key, want) in cases {
            assert_eq!(
                murmur2(key) as i32,
                want,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn a_key_always_lands_on_one_partition_in_range() {
        for n in 1..=12 {
            let p = partition_for(b"0190f1a2-0000-7000-8000-000000000001", n);
            assert!((0..n).contains(&p));
            assert_eq!(p, partition_for(b"0190f1a2-0000-7000-8000-000000000001", n));
        }
        assert_eq!(partition_for(b"x", 0), 0, "a zero count is treated as one");
    }
}
