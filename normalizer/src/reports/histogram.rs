//! Durations as histograms that can be summed: each duration is rounded to three significant
//! digits of milliseconds ([`round3`]) and counted. Rounding keeps the order of durations, so
//! the median and the 90th percentile of a histogram are exactly those of the rounded
//! durations: a p90 (or an odd count's median) is the exact figure rounded to three
//! significant digits, never off by more than 0.5 %; durations under a second are exact.
//!
//! Stored as text: `B` and the base64 of varints, for each bucket counted in ascending order
//! its distance to the previous one and its count, so a report decodes a row without parsing
//! numbers or rounding values again (the earlier form, `value` or `value*count` separated by
//! spaces, is still read). In memory a histogram is a dense array indexed by bucket
//! ([`bucket`]): the buckets number at most about 15,400 (1,000 exact milliseconds, then 900
//! per power of ten), so merging a stored pair is an index and an add, with no hashing.

use base64::Engine as _;
use roaring::RoaringTreemap;

/// `ms` rounded (half up) to three significant digits: exact below 1,000 ms, then to the 10,
/// 100, 1,000... ms. Negative durations count as zero.
pub fn round3(ms: i64) -> i64 {
    if ms < 1000 {
        return ms.max(0);
    }
    let mut scale = 1i64;
    while ms / scale >= 1000 {
        scale *= 10;
    }
    ms.saturating_add(scale / 2) / scale * scale
}

/// The bucket of `ms` once rounded ([`round3`]): the value itself below 1,000, then 900
/// buckets per power of ten (100 to 999 times 10, 100...). Buckets keep the values' order.
pub fn bucket(ms: i64) -> usize {
    let mut v = round3(ms);
    if v < 1000 {
        return v as usize;
    }
    let mut tens = 0usize;
    while v >= 1000 {
        v /= 10;
        tens += 1;
    }
    // `v` is now 100..=999: the three significant digits.
    1000 + (tens - 1) * 900 + (v as usize - 100)
}

/// The rounded value a bucket counts ([`bucket`]'s inverse).
fn value(bucket: usize) -> i64 {
    if bucket < 1000 {
        return bucket as i64;
    }
    let (tens, digits) = ((bucket - 1000) / 900 + 1, (bucket - 1000) % 900 + 100);
    digits as i64 * 10i64.pow(tens as u32)
}

/// Counts of rounded durations, by bucket.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Indexed by bucket; zero below `lo` (and empty while nothing was counted).
    counts: Vec<u64>,
    /// The lowest bucket counted, so that sparse histograms are merged and ranked without
    /// walking the empty buckets below it.
    lo: usize,
    len: u64,
}

impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        let trim = |c: &[u64]| c.len() - c.iter().rev().take_while(|&&n| n == 0).count();
        let lo = self.lo.min(other.lo);
        let (a, b) = (
            &self.counts[..trim(&self.counts)],
            &other.counts[..trim(&other.counts)],
        );
        self.len == other.len && a.get(lo..) == b.get(lo..)
    }
}

impl Eq for Histogram {}

/// The `(bucket, count)` pairs of an encoded histogram ([`bucket`]), for merging one row
/// into several histograms; malformed parts are skipped (in the binary form, the rest of the
/// text).
pub fn buckets(text: &str) -> Vec<(usize, u64)> {
    if let Some(b64) = text.strip_prefix('B') {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64) else {
            return Vec::new();
        };
        let mut it = bytes.iter().copied();
        let mut out = Vec::new();
        let mut b = 0u64;
        while let (Some(gap), Some(count)) = (varint(&mut it), varint(&mut it)) {
            b = b.saturating_add(gap);
            match usize::try_from(b) {
                Ok(b) if b <= MAX_BUCKET => out.push((b, count)),
                _ => break,
            }
        }
        return out;
    }
    text.split_ascii_whitespace()
        .filter_map(|part| {
            let (v, c) = part.split_once('*').unwrap_or((part, "1"));
            Some((bucket(v.parse().ok()?), c.parse().ok()?))
        })
        .collect()
}

/// The highest bucket a duration can have ([`bucket`] of `i64::MAX`, 922 × 10¹⁶ ms); the
/// value of any higher one would not fit an `i64`.
const MAX_BUCKET: usize = 1000 + 15 * 900 + 822;

/// Reads one LEB128 varint; `None` at the end or on a malformed one.
fn varint(bytes: &mut impl Iterator<Item = u8>) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = bytes.next()?;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Histogram {
    fn count(&mut self, bucket: usize, n: u64) {
        if n == 0 {
            return;
        }
        if bucket >= self.counts.len() {
            self.counts.resize(bucket + 1, 0);
        }
        self.lo = if self.len == 0 {
            bucket
        } else {
            self.lo.min(bucket)
        };
        self.counts[bucket] += n;
        self.len += n;
    }

    /// Counts one duration, rounded.
    pub fn add(&mut self, ms: i64) {
        self.count(bucket(ms), 1);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Self) {
        if other.len == 0 {
            return;
        }
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        let lo = other.lo;
        for (mine, &theirs) in self.counts[lo..].iter_mut().zip(&other.counts[lo..]) {
            *mine += theirs;
        }
        self.lo = if self.len == 0 { lo } else { self.lo.min(lo) };
        self.len += other.len;
    }

    /// Adds `(bucket, count)` pairs (see [`buckets`]).
    pub fn merge_buckets(&mut self, pairs: &[(usize, u64)]) {
        for &(b, n) in pairs {
            self.count(b, n);
        }
    }

    /// Decodes a histogram written by [`Histogram::encode`].
    pub fn decode(text: &str) -> Self {
        let mut h = Self::default();
        h.merge_buckets(&buckets(text));
        h
    }

    /// The stored form (see the module's documentation).
    pub fn encode(&self) -> String {
        let mut bytes = Vec::new();
        let lo = self.lo.min(self.counts.len());
        let mut prev = 0usize;
        for (b, &c) in (lo..).zip(&self.counts[lo..]).filter(|(_, c)| **c > 0) {
            push_varint(&mut bytes, (b - prev) as u64);
            push_varint(&mut bytes, c);
            prev = b;
        }
        let mut out = String::from("B");
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(&bytes, &mut out);
        out
    }

    /// The earlier text form: `value` or `value*count`, ascending, separated by spaces.
    #[cfg(test)]
    fn encode_text(&self) -> String {
        let mut out = String::new();
        let lo = self.lo.min(self.counts.len());
        for (b, &c) in (lo..).zip(&self.counts[lo..]).filter(|(_, c)| **c > 0) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&value(b).to_string());
            if c != 1 {
                out.push('*');
                out.push_str(&c.to_string());
            }
        }
        out
    }

    /// How many durations were counted.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `rank`-th smallest values (1-based), for ascending ranks.
    fn ranks<const N: usize>(&self, ranks: [u64; N]) -> Option<[i64; N]> {
        let mut out = [0i64; N];
        let (mut seen, mut i) = (0u64, 0usize);
        let lo = self.lo.min(self.counts.len());
        for (b, &c) in (lo..).zip(&self.counts[lo..]) {
            seen += c;
            while i < N && seen >= ranks[i] {
                out[i] = value(b);
                i += 1;
            }
            if i == N {
                break;
            }
        }
        (i == N).then_some(out)
    }

    /// The median, as [`super::stats::median`] computes it over the rounded values.
    pub fn median(&self) -> Option<f64> {
        let n = self.len;
        if n == 0 {
            return None;
        }
        if n % 2 == 1 {
            self.ranks([n / 2 + 1]).map(|[v]| v as f64)
        } else {
            self.ranks([n / 2, n / 2 + 1])
                .map(|[a, b]| (a as f64 + b as f64) / 2.0)
        }
    }

    /// The 90th percentile by nearest rank, as [`super::stats::p90`] computes it over the
    /// rounded values.
    pub fn p90(&self) -> Option<f64> {
        let n = self.len;
        if n == 0 {
            return None;
        }
        self.ranks([(9 * n).div_ceil(10).max(1)])
            .map(|[v]| v as f64)
    }
}

/// Conversation ids as text: `R` and the base64 of the portable serialization of a
/// [`RoaringTreemap`], which decodes with a copy rather than a parse per id.
pub fn encode_ids(ids: &RoaringTreemap) -> String {
    let mut bytes = Vec::with_capacity(ids.serialized_size());
    // Writing to a vector cannot fail.
    let _ = ids.serialize_into(&mut bytes);
    let mut out = String::from("R");
    base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(&bytes, &mut out);
    out
}

/// The ids of text written by [`encode_ids`], or in the earlier form (ascending, each written
/// as its difference to the previous one); what cannot be read is skipped.
pub fn decode_ids(text: &str) -> RoaringTreemap {
    if let Some(b64) = text.strip_prefix('R') {
        return base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .ok()
            .and_then(|bytes| RoaringTreemap::deserialize_from(&bytes[..]).ok())
            .unwrap_or_default();
    }
    let mut ids = RoaringTreemap::new();
    let mut prev = 0i64;
    for part in text.split_ascii_whitespace() {
        if let Ok(d) = part.parse::<i64>() {
            prev += d;
            if let Ok(id) = u64::try_from(prev) {
                ids.insert(id);
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::super::stats;
    use super::*;

    #[test]
    fn rounding_keeps_three_significant_digits() {
        let cases = [
            (-5, 0),
            (0, 0),
            (999, 999),
            (1000, 1000),
            (1004, 1000),
            (1005, 1010),
            (9995, 10_000),
            (10_049, 10_000),
            (10_050, 10_100),
            (320_000, 320_000),
            (1_234_567, 1_230_000),
            (4_200_000, 4_200_000),
            (999_500, 1_000_000),
        ];
        for (ms, want) in cases {
            assert_eq!(round3(ms), want, "{ms}");
        }
        // Never more than 0.5 % off, and monotonic.
        let mut prev = 0;
        for ms in (0..3_000_000).step_by(7) {
            let r = round3(ms);
            assert!((r - ms).abs() * 200 <= ms.max(1), "{ms} -> {r}");
            assert!(r >= prev, "{ms}");
            prev = r;
        }
    }

    #[test]
    fn buckets_keep_the_order_of_rounded_values() {
        let mut prev = None;
        for ms in (0..40_000_000i64)
            .step_by(997)
            .chain([i64::MAX / 2, i64::MAX])
        {
            let b = bucket(ms);
            assert_eq!(value(b), round3(ms), "{ms}");
            if let Some((p, pv)) = prev {
                assert!(b >= p, "{ms}");
                assert_eq!(b == p, pv == round3(ms), "{ms}");
            }
            prev = Some((b, round3(ms)));
        }
        assert_eq!(
            (bucket(999), bucket(1000), bucket(9990), bucket(10_000)),
            (999, 1000, 1899, 1900)
        );
        // Values up to i64::MAX stay within 1,000 + 16 powers of ten.
        assert!(bucket(i64::MAX) < 1000 + 16 * 900);
        assert_eq!(bucket(i64::MAX), MAX_BUCKET);
    }

    #[test]
    fn median_and_p90_are_those_of_the_rounded_values() {
        let sets: [&[i64]; 5] = [
            &[7],
            &[120_000, 90_000, 240_000, 400_000, 1_200_000, 4_200_000],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            &[1_234_567, 1_234_999, 7, 9_999_999],
            &[5000, 5000, 5000, 12_345],
        ];
        for values in sets {
            let mut h = Histogram::default();
            values.iter().for_each(|&v| h.add(v));
            let mut rounded: Vec<i64> = values.iter().map(|&v| round3(v)).collect();
            assert_eq!(h.median(), stats::median(&mut rounded), "{values:?}");
            assert_eq!(h.p90(), stats::p90(&mut rounded), "{values:?}");
            assert_eq!(h.len(), values.len() as u64);
            let back = Histogram::decode(&h.encode());
            assert_eq!(back, h, "{}", h.encode());
        }
        assert_eq!(Histogram::default().median(), None);
        assert_eq!(Histogram::default().p90(), None);
    }

    #[test]
    fn merging_gives_the_histogram_of_all_values() {
        let (a, b): (&[i64], &[i64]) = (&[4_200_000, 90_000, 7], &[3, 12_345, 5_000_000, 7]);
        let of = |values: &[i64]| {
            let mut h = Histogram::default();
            values.iter().for_each(|&v| h.add(v));
            h
        };
        let all = of(&[a, b].concat());
        for (x, y) in [(a, b), (b, a)] {
            let mut h = of(x);
            h.merge(&of(y));
            assert_eq!(h, all);
            assert_eq!(h.encode(), all.encode());
            let mut h = Histogram::default();
            h.merge(&of(x));
            h.merge_buckets(&buckets(&of(y).encode()));
            assert_eq!((h.median(), h.p90(), h.len()), (all.median(), all.p90(), 7));
        }
        assert_eq!(all.encode_text(), "3 7*2 12300 90000 4200000 5000000");
        // Both stored forms decode to the same histogram.
        assert_eq!(Histogram::decode(&all.encode_text()), all);
        assert_eq!(Histogram::decode(&all.encode()), all);
        // Damaged text decodes to what can be read, never to a bucket out of range.
        assert!(Histogram::decode("B!!").is_empty());
        assert!(Histogram::decode("B//////////////8").len() <= 1);
        assert_ne!(of(a), of(b));
    }

    #[test]
    fn ids_round_trip() {
        let ids: RoaringTreemap = [3u64, 4, 10, 1_000_000, 5_000_000_000]
            .into_iter()
            .collect();
        let text = encode_ids(&ids);
        assert!(text.starts_with('R'), "{text}");
        assert_eq!(decode_ids(&text), ids);
        // The earlier form, differences written as numbers, is still read.
        let old: RoaringTreemap = [3u64, 4, 10, 1_000_000].into_iter().collect();
        assert_eq!(decode_ids("3 1 6 999990"), old);
        // Damaged text decodes to nothing rather than to wrong ids.
        assert!(decode_ids("R!!!").is_empty());
    }
}
