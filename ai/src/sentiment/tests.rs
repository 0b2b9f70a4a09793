//! Sample customer messages and the sign and drivers of their scores.

use super::*;

fn score(text: &str) -> f32 {
    analyze(text).score
}

#[test]
fn signs_of_everyday_messages() {
    let positive = [
        "谢谢，问题解决了",
        "你们的客服很专业",
        "Thanks, that was really helpful!",
        "物流不错",
        "not bad at all",
    ];
    let neutral = [
        "你好，运费多少",
        "请问怎么退货",
        "Hello, where is my order?",
        "不好意思打扰一下",
        "I would like to change my address",
    ];
    let negative = [
        "太慢了",
        "质量很差",
        "不好用",
        "This is not good",
        "the worst service ever",
        "一点也不满意",
    ];
    for t in positive {
        assert!(score(t) > 0.0, "{t}: {:?}", analyze(t));
    }
    for t in neutral {
        assert_eq!(score(t), 0.0, "{t}: {:?}", analyze(t));
    }
    for t in negative {
        assert!(score(t) < 0.0, "{t}: {:?}", analyze(t));
    }
}

#[test]
fn complaints_are_strongly_negative() {
    for t in [
        "我要投诉你们！！！",
        "再不处理就打12315",
        "给你们差评",
        "Refund now or I will file a complaint",
        "为什么还没发货？？？太离谱了",
    ] {
        let s = analyze(t);
        assert!(s.score <= STRONGLY_NEGATIVE, "{t}: {s:?}");
    }
    // A number that merely contains 12315 is not a complaint.
    assert_eq!(score("订单号 8812315009"), 0.0);
}

#[test]
fn terms_explain_the_score() {
    let s = analyze("客服态度非常差，我要投诉！！！");
    let terms: Vec<(&str, f32)> = s
        .terms
        .iter()
        .map(|t| (t.text.as_str(), t.weight))
        .collect();
    assert_eq!(terms, [("非常差", -2.7), ("投诉", -2.5), ("！！！", -1.0)]);
    assert_eq!(s.score, -0.81);

    // Negation flips and weakens; a clause break stops it.
    let s = analyze("不太好");
    assert_eq!(s.terms[0].text, "不太好");
    assert_eq!(s.terms[0].weight, -0.96);
    let s = analyze("不，很好");
    assert_eq!(
        s.terms,
        [Term {
            text: "很好".into(),
            weight: 1.5
        }]
    );
    // Full-width and upper case fold.
    assert!(score("ＶＥＲＹ ＢＡＤ") < -0.5);
    // Exclamation marks do not turn praise sour.
    assert!(score("太棒了！！！") > 0.5);
}
