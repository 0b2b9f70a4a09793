//! The bot's decision, a pure function of the customer's words, the candidates, the inbox's
//! settings, how many answers the bot already gave in a row, and whether the bot is within its
//! hours (the caller reads the clock and the schedule).

use kefu_normalizer::knowledge::{BotSettings, Decided, HandoffReason};

use crate::index::Hit;
use crate::sentiment::{STRONGLY_NEGATIVE, analyze};
use crate::text::asks_for_human;

/// What the bot does with a customer's message, in this order: outside the bot's hours
/// (`within_hours` false) it hands off; a request for a person hands off; so does a strongly
/// negative message (a complaint, see [`crate::sentiment`]); so does reaching `max_answers`
/// answers in a row; a best candidate below `min_score`,
/// or within `min_margin` of the runner-up, is a weak match and hands off; anything else is
/// answered with the best candidate.
pub fn decide(
    text: &str,
    hits: &[Hit],
    settings: &BotSettings,
    answers_in_row: u32,
    within_hours: bool,
) -> Decided {
    if !within_hours {
        return Decided::Handoff(HandoffReason::OutsideHours);
    }
    if asks_for_human(text) {
        return Decided::Handoff(HandoffReason::AskedForHuman);
    }
    if analyze(text).score <= STRONGLY_NEGATIVE {
        return Decided::Handoff(HandoffReason::NegativeSentiment);
    }
    if answers_in_row >= settings.max_answers {
        return Decided::Handoff(HandoffReason::TooManyAnswers);
    }
    match hits.first() {
        Some(best) if !weak_match(hits, settings) => Decided::Answer {
            knowledge_id: best.knowledge_id,
            answer: best.answer.clone(),
        },
        _ => Decided::Handoff(HandoffReason::WeakMatch),
    }
}

/// Whether the knowledge base has no clear answer among `hits` (best first): none at all, a
/// best score under `min_score`, or a lead over the runner-up under `min_margin`. The bot
/// hands such a question off, and learning proposes an agent's answer to it.
pub fn weak_match(hits: &[Hit], settings: &BotSettings) -> bool {
    let Some(best) = hits.first() else {
        return true;
    };
    let runner_up = hits.get(1).map(|h| h.score).unwrap_or(0.0);
    // Scores are rounded to thousandths; compare with the same precision.
    let margin = ((best.score - runner_up) * 1000.0).round() / 1000.0;
    best.score < settings.min_score || margin < settings.min_margin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: i64, score: f32) -> Hit {
        Hit {
            knowledge_id: id,
            answer: format!("answer {id}"),
            score,
        }
    }

    #[test]
    fn table() {
        let s = BotSettings::default(); // min_score 0.35, min_margin 0.05, max_answers 3
        let answer = |id: i64| Decided::Answer {
            knowledge_id: id,
            answer: format!("answer {id}"),
        };
        let weak = Decided::Handoff(HandoffReason::WeakMatch);
        let cases: Vec<(&str, Vec<Hit>, u32, Decided)> = vec![
            ("运费多少", vec![hit(1, 0.88), hit(2, 0.2)], 0, answer(1)),
            ("运费多少", vec![hit(1, 0.35)], 2, answer(1)),
            ("运费多少", vec![hit(1, 0.349)], 0, weak.clone()),
            (
                "运费多少",
                vec![hit(1, 0.8), hit(2, 0.751)],
                0,
                weak.clone(),
            ),
            ("运费多少", vec![hit(1, 0.8), hit(2, 0.75)], 0, answer(1)),
            ("你好", vec![], 0, weak),
            (
                "运费多少 转人工",
                vec![hit(1, 0.9)],
                0,
                Decided::Handoff(HandoffReason::AskedForHuman),
            ),
            (
                "运费多少",
                vec![hit(1, 0.9)],
                3,
                Decided::Handoff(HandoffReason::TooManyAnswers),
            ),
            (
                "运费多少？？？我要投诉",
                vec![hit(1, 0.9)],
                0,
                Decided::Handoff(HandoffReason::NegativeSentiment),
            ),
        ];
        for (text, hits, row, want) in cases {
            assert_eq!(
                decide(text, &hits, &s, row, true),
                want,
                "{text} {hits:?} {row}"
            );
        }
    }

    #[test]
    fn outside_its_hours_the_bot_hands_off_whatever_it_knows() {
        let s = BotSettings::default();
        let outside = Decided::Handoff(HandoffReason::OutsideHours);
        for (text, hits, row) in [
            ("运费多少", vec![hit(1, 0.95), hit(2, 0.1)], 0),
            ("运费多少 转人工", vec![hit(1, 0.9)], 0),
            ("你好", vec![], 3),
        ] {
            assert_eq!(decide(text, &hits, &s, row, false), outside, "{text}");
        }
        assert_eq!(
            decide("运费多少", &[hit(1, 0.95)], &s, 0, true),
            Decided::Answer {
                knowledge_id: 1,
                answer: "answer 1".into()
            }
        );
    }
}
