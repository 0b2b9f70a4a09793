//! `kefu-bench faq`: the FAQ bot's accuracy on its labelled evaluation set and the time its
//! match and decision add to each inbound message.
//!
//! ```text
//! kefu-bench faq [--sizes 51,5000] [--runs 5] [--passes 4]
//! ```
//!
//! For each knowledge-base size, builds the index of the evaluation set's entries
//! (`ai/eval/knowledge.json`) plus generated filler entries up to that size, then runs every
//! question of `ai/eval/questions.json` through what `FaqBot` does per message — the index's
//! search for the best candidates, then `decide` with the default `BotSettings` — `--passes`
//! times per run, timing each message. Prints, per run, the accuracy and the latency's
//! percentiles, then the medians over `--runs` runs. The accuracy is the same in every run
//! (everything is deterministic); the timings are what varies.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_normalizer::knowledge::BotSettings;

#[path = "../../../../ai/eval/harness.rs"]
mod harness;

struct Args {
    sizes: Vec<usize>,
    runs: usize,
    passes: usize,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        sizes: vec![0, 5_000],
        runs: 5,
        passes: 4,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => {
                a.sizes = v
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .context("--sizes takes numbers separated by commas")?
            }
            "--runs" => a.runs = v.parse()?,
            "--passes" => a.passes = v.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.runs == 0 || a.passes == 0 {
        bail!("--runs and --passes must be at least 1");
    }
    Ok(a)
}

/// One run's figures.
struct Run {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn micros(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

/// Entry point of `kefu-bench faq`.
pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let questions = harness::questions();
    let settings = BotSettings::default();
    println!(
        "{} questions ({} in scope), {} real entries; default settings: min_score {}, min_margin {}",
        questions.len(),
        questions
            .iter()
            .filter(|q| matches!(q.expect, harness::Expect::Entry(_)))
            .count(),
        harness::knowledge().len(),
        settings.min_score,
        settings.min_margin
    );
    for &size in &args.sizes {
        let started = Instant::now();
        let index = harness::index(size);
        let built = started.elapsed();
        // The first search loads jieba's dictionary; it is not part of any message's time.
        let (score, kinds, misses) = harness::evaluate(&index, &questions, &settings);
        println!(
            "\n## {} entries (index built in {:.2} s)\n",
            index.len(),
            built.as_secs_f64()
        );
        println!(
            "top-1 {:.1} % ({}/{}), answered right {:.1} %, answered wrong {}, \
             off-topic handed off {:.1} % ({}/{}), handoff precision {:.1} %",
            100.0 * score.top1_accuracy(),
            score.top1,
            score.in_scope,
            100.0 * score.answer_accuracy(),
            score.answered_wrong,
            100.0 * score.handoff_recall(),
            score.off_topic_handed_off,
            score.off_topic,
            100.0 * score.handoff_precision()
        );
        let by_kind: Vec<String> = kinds
            .iter()
            .map(|(k, (right, total))| format!("{k} {right}/{total}"))
            .collect();
        println!("right by kind: {}", by_kind.join(", "));
        for m in &misses {
            println!("  miss: {m}");
        }
        println!("\n| run | messages | p50 µs | p99 µs | max µs |\n|---|---|---|---|---|");
        let mut runs = Vec::new();
        let mut slowest: Vec<(Duration, &str)> = Vec::new();
        for run in 1..=args.runs {
            let mut times = Vec::with_capacity(questions.len() * args.passes);
            for _ in 0..args.passes {
                for q in &questions {
                    let t = Instant::now();
                    let outcome = harness::ask(&index, &q.text, &settings);
                    let took = t.elapsed();
                    times.push(took);
                    slowest.push((took, &q.text));
                    std::hint::black_box(outcome);
                }
            }
            times.sort();
            let r = Run {
                p50: percentile(&times, 0.5),
                p99: percentile(&times, 0.99),
                max: times[times.len() - 1],
            };
            println!(
                "| {run} | {} | {} | {} | {} |",
                times.len(),
                micros(r.p50),
                micros(r.p99),
                micros(r.max)
            );
            runs.push(r);
        }
        println!(
            "| median of {} | | {} | {} | {} |",
            runs.len(),
            micros(median(runs.iter().map(|r| r.p50).collect())),
            micros(median(runs.iter().map(|r| r.p99).collect())),
            micros(median(runs.iter().map(|r| r.max).collect()))
        );
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        slowest.dedup_by(|a, b| a.1 == b.1);
        let names: Vec<String> = slowest
            .iter()
            .take(5)
            .map(|(d, text)| format!("{text:?} {} µs", micros(*d)))
            .collect();
        println!("\nslowest messages: {}", names.join(", "));
    }
    Ok(())
}
