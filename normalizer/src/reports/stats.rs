//! The summary statistics reports use, pure so their edge cases are table-tested.

/// The median of `values` (sorted here): the middle value, or the mean of the two middle
/// values of an even count. `None` when empty.
pub fn median(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        Some(values[mid] as f64)
    } else {
        Some((values[mid - 1] as f64 + values[mid] as f64) / 2.0)
    }
}

/// The 90th percentile of `values` (sorted here) by the nearest-rank method: the smallest
/// value at least 90 % of the values are less than or equal to, i.e. the `ceil(0.9 n)`-th.
/// It is always one of the values. `None` when empty.
pub fn p90(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    // ceil(0.9 n) in integers: (9 n + 9) / 10.
    let rank = (9 * n).div_ceil(10).max(1);
    Some(values[rank - 1] as f64)
}

/// Milliseconds as seconds, rounded to the millisecond.
pub fn secs(ms: f64) -> f64 {
    (ms).round() / 1000.0
}

/// The mean of `ratings`, rounded to two decimals. `None` when empty.
pub fn average(ratings: &[i16]) -> Option<f64> {
    if ratings.is_empty() {
        return None;
    }
    let sum: i64 = ratings.iter().map(|&r| i64::from(r)).sum();
    Some((sum as f64 / ratings.len() as f64 * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let cases: [(&[i64], Option<f64>); 5] = [
            (&[], None),
            (&[7], Some(7.0)),
            (&[3, 1], Some(2.0)),
            (&[5, 1, 3], Some(3.0)),
            (&[4, 1, 2, 10], Some(3.0)),
        ];
        for (values, want) in cases {
            assert_eq!(median(&mut values.to_vec()), want, "{values:?}");
        }
    }

    #[test]
    fn ninetieth_percentiles() {
        let ten: Vec<i64> = (1..=10).collect();
        let eleven: Vec<i64> = (1..=11).collect();
        let cases: [(&[i64], Option<f64>); 6] = [
            (&[], None),
            (&[7], Some(7.0)),
            (&[1, 2], Some(2.0)),
            (&ten, Some(9.0)),
            (&eleven, Some(10.0)),
            (&[30, 10, 20], Some(30.0)),
        ];
        for (values, want) in cases {
            assert_eq!(p90(&mut values.to_vec()), want, "{values:?}");
        }
    }

    #[test]
    fn averages() {
        assert_eq!(average(&[]), None);
        assert_eq!(average(&[5, 4]), Some(4.5));
        assert_eq!(average(&[5, 4, 4]), Some(4.33));
        assert_eq!(secs(1500.0), 1.5);
        assert_eq!(secs(2500.5), 2.501);
    }
}
