//! Retrieval with embeddings: the entries nearest a question by cosine similarity, fused with
//! BM25's ranking by reciprocal rank (Cormack, Clarke and Büttcher, SIGIR 2009): each entry
//! scores `Σ 1 / (K + rank)` over the rankings it appears in, so an entry both find comes
//! first, and one only the embeddings find (a paraphrase sharing no word) still gets a place.

use std::collections::HashMap;

/// The constant of reciprocal rank fusion (the paper's 60).
pub const K: f64 = 60.0;

/// Cosine similarity of two vectors (0 when either is all zeros or their sizes differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// The ids of the `n` vectors of `docs` nearest `query` with a similarity above 0, with
/// their similarity, nearest first (the lower id first on a tie).
pub fn nearest<'a>(
    query: &[f32],
    docs: impl IntoIterator<Item = (i64, &'a [f32])>,
    n: usize,
) -> Vec<(i64, f32)> {
    let mut scored: Vec<(f32, i64)> = docs
        .into_iter()
        .map(|(id, v)| (cosine(query, v), id))
        .filter(|(s, _)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(n).map(|(s, id)| (id, s)).collect()
}

/// The first `n` ids of `rankings` fused by reciprocal rank (best first; on a tie, the one
/// ranked first by the earliest ranking).
pub fn reciprocal_rank_fusion(rankings: &[&[i64]], n: usize) -> Vec<i64> {
    let mut score: HashMap<i64, f64> = HashMap::new();
    let mut order: Vec<i64> = Vec::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            let s = score.entry(*id).or_insert_with(|| {
                order.push(*id);
                0.0
            });
            *s += 1.0 / (K + rank as f64 + 1.0);
        }
    }
    order.sort_by(|a, b| score[b].total_cmp(&score[a]));
    order.truncate(n);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_puts_what_both_rankings_find_first() {
        let bm25 = [1, 2, 3];
        let dense = [4, 2, 1];
        assert_eq!(reciprocal_rank_fusion(&[&bm25, &dense], 5), [1, 2, 4, 3]);
        // Found by one ranking only, it still has a place.
        assert_eq!(reciprocal_rank_fusion(&[&[], &[9]], 5), [9]);
        assert_eq!(reciprocal_rank_fusion(&[&bm25], 2), [1, 2]);
        assert!(reciprocal_rank_fusion(&[], 3).is_empty());
    }

    #[test]
    fn nearest_vectors_by_cosine() {
        let docs = [
            (1, vec![1.0, 0.0]),
            (2, vec![0.7, 0.7]),
            (3, vec![0.0, 1.0]),
            (4, vec![0.0, 0.0]),
            (5, vec![1.0]),
        ];
        let docs = || docs.iter().map(|(id, v)| (*id, v.as_slice()));
        let ids = |found: Vec<(i64, f32)>| found.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids(nearest(&[1.0, 0.1], docs(), 5)), [1, 2, 3]);
        let best = nearest(&[0.0, 1.0], docs(), 1);
        assert_eq!(best.len(), 1);
        assert_eq!(best[0].0, 3);
        assert!((best[0].1 - 1.0).abs() < 1e-6, "{best:?}");
        assert!(nearest(&[0.0, 0.0], docs(), 3).is_empty());
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
    }
}
