//! Durations as histograms that can be summed: each duration is rounded to three significant
//! digits of milliseconds ([`round3`]) and counted. Rounding keeps the order of durations, so
//! the median and the 90th percentile of a histogram are exactly those of the rounded
//! durations: a p90 (or an odd count's median) is the exact figure rounded to three
//! significant digits, never off by more than 0.5 %; durations under a second are exact.
//!
//! Stored as text: `value` or `value*count`, ascending, separated by spaces.

use std::collections::HashMap;

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
    (ms + scale / 2) / scale * scale
}

/// Counts of rounded durations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: HashMap<i64, u64>,
}

/// The `(value, count)` pairs of an encoded histogram; malformed parts are skipped.
pub fn parse(text: &str) -> Vec<(i64, u64)> {
    text.split_ascii_whitespace()
        .filter_map(|part| {
            let (v, c) = part.split_once('*').unwrap_or((part, "1"));
            Some((v.parse().ok()?, c.parse().ok()?))
        })
        .collect()
}

impl Histogram {
    /// Counts one duration, rounded.
    pub fn add(&mut self, ms: i64) {
        *self.counts.entry(round3(ms)).or_default() += 1;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Self) {
        for (&v, &c) in &other.counts {
            *self.counts.entry(v).or_default() += c;
        }
    }

    /// Adds `(value, count)` pairs (see [`parse`]).
    pub fn merge_pairs(&mut self, pairs: &[(i64, u64)]) {
        for &(v, c) in pairs {
            *self.counts.entry(v).or_default() += c;
        }
    }

    /// The counts, by ascending value.
    fn sorted(&self) -> Vec<(i64, u64)> {
        let mut v: Vec<(i64, u64)> = self.counts.iter().map(|(&v, &c)| (v, c)).collect();
        v.sort_unstable();
        v
    }

    /// Decodes a histogram written by [`Histogram::encode`].
    pub fn decode(text: &str) -> Self {
        let mut h = Self::default();
        h.merge_pairs(&parse(text));
        h
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (v, c) in self.sorted() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&v.to_string());
            if c != 1 {
                out.push('*');
                out.push_str(&c.to_string());
            }
        }
        out
    }

    /// How many durations were counted.
    pub fn len(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The `rank`-th smallest values (1-based) of `sorted` counts, for ascending ranks.
    fn ranks<const N: usize>(sorted: &[(i64, u64)], ranks: [u64; N]) -> Option<[i64; N]> {
        let mut out = [0i64; N];
        let (mut seen, mut i) = (0u64, 0usize);
        for &(v, c) in sorted {
            seen += c;
            while i < N && seen >= ranks[i] {
                out[i] = v;
                i += 1;
            }
        }
        (i == N).then_some(out)
    }

    /// The median, as [`super::stats::median`] computes it over the rounded values.
    pub fn median(&self) -> Option<f64> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let sorted = self.sorted();
        if n % 2 == 1 {
            Self::ranks(&sorted, [n / 2 + 1]).map(|[v]| v as f64)
        } else {
            Self::ranks(&sorted, [n / 2, n / 2 + 1]).map(|[a, b]| (a as f64 + b as f64) / 2.0)
        }
    }

    /// The 90th percentile by nearest rank, as [`super::stats::p90`] computes it over the
    /// rounded values.
    pub fn p90(&self) -> Option<f64> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        Self::ranks(&self.sorted(), [(9 * n).div_ceil(10).max(1)]).map(|[v]| v as f64)
    }
}

/// Conversation ids as text: ascending, each written as its difference to the previous one.
pub fn encode_ids(ids: &std::collections::BTreeSet<i64>) -> String {
    let mut out = String::new();
    let mut prev = 0i64;
    for &id in ids {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&(id - prev).to_string());
        prev = id;
    }
    out
}

/// Calls `f` with each id of text written by [`encode_ids`].
pub fn decode_ids(text: &str, mut f: impl FnMut(i64)) {
    let mut prev = 0i64;
    for part in text.split_ascii_whitespace() {
        if let Ok(d) = part.parse::<i64>() {
            prev += d;
            f(prev);
        }
    }
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
    fn ids_round_trip() {
        let ids: std::collections::BTreeSet<i64> = [3, 4, 10, 1_000_000].into();
        let text = encode_ids(&ids);
        assert_eq!(text, "3 1 6 999990");
        let mut back = std::collections::BTreeSet::new();
        decode_ids(&text, |id| {
            back.insert(id);
        });
        assert_eq!(back, ids);
    }
}
