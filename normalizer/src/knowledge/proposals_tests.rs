use super::*;

fn said(id: i64, sender: SenderType, text: &str) -> Said {
    Said {
        id,
        sender,
        sender_id: (sender == SenderType::Agent).then_some(if id < 100 { 7 } else { 8 }),
        text: text.into(),
    }
}

use SenderType::{Agent, Bot, Contact, System};

#[test]
fn the_first_answered_question_is_learnt() {
    type Learnt<'a> = Option<(&'a str, i64, &'a str, i64)>;
    let cases: Vec<(&str, Vec<Said>, Learnt<'_>)> = vec![
        (
            "two messages asked, two answered",
            vec![
                said(1, Contact, "你好"),
                said(2, Contact, "周末上班吗？"),
                said(3, System, "已为您排队"),
                said(4, Agent, "周末也上班，"),
                said(5, Agent, "9 点到 18 点。"),
                said(6, Contact, "谢谢"),
                said(7, Agent, "不客气"),
            ],
            Some(("你好\n周末上班吗？", 2, "周末也上班，\n9 点到 18 点。", 4)),
        ),
        (
            "what the bot answered is not the question",
            vec![
                said(1, Contact, "运费多少"),
                said(2, Bot, "满 99 元包邮。"),
                said(3, Contact, "能开发票吗"),
                said(4, Agent, "可以，在订单页申请。"),
            ],
            Some(("能开发票吗", 3, "可以，在订单页申请。", 4)),
        ),
        (
            "an agent who writes first answers nothing",
            vec![
                said(1, Agent, "您好，您的订单已发货。"),
                said(2, Contact, "好的"),
                said(3, Agent, "还有其他问题吗"),
            ],
            Some(("好的", 2, "还有其他问题吗", 3)),
        ),
        (
            "another agent's message ends the answer",
            vec![
                said(1, Contact, "Q"),
                said(2, Agent, "A"),
                said(102, Agent, "B"),
            ],
            Some(("Q", 1, "A", 2)),
        ),
        (
            "only the bot answered",
            vec![said(1, Contact, "运费多少"), said(2, Bot, "满 99 元包邮。")],
            None,
        ),
        (
            "nobody answered",
            vec![said(1, Contact, "在吗"), said(2, System, "已为您排队")],
            None,
        ),
        ("nothing said", vec![], None),
    ];
    for (name, messages, want) in cases {
        let got = exchange(&messages);
        let got = got.as_ref().map(|e| {
            (
                e.question.as_str(),
                e.question_message_id,
                e.answer.as_str(),
                e.answer_message_id,
            )
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_long_question_keeps_its_last_message_and_a_too_long_one_is_not_learnt() {
    let long = "很".repeat(498);
    let e = exchange(&[
        said(1, Contact, &long),
        said(2, Contact, "退货要多久？"),
        said(3, Agent, "三天。"),
    ])
    .expect("learnt");
    assert_eq!((e.question.as_str(), e.agent_id), ("退货要多久？", Some(7)));
    let too_long = "很".repeat(MAX_QUESTION_CHARS + 1);
    assert_eq!(
        exchange(&[said(1, Contact, &too_long), said(2, Agent, "好")]),
        None
    );
    let long_answer = "好".repeat(MAX_ANSWER_CHARS + 1);
    assert_eq!(
        exchange(&[said(1, Contact, "Q"), said(2, Agent, &long_answer)]),
        None
    );
}
