//! The hand-made lexicons: small on purpose, Chinese and English, tuned on customer-service
//! messages. Weights are the strength of a term on its own (before negation or intensifiers).

/// What a lexicon entry is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A word with a polarity: positive or negative weight.
    Polar(f32),
    /// Flips the polarity of the next polar word ("不", "not").
    Negator,
    /// Multiplies the next polar word ("很", "very"; below 1 softens: "有点").
    Intensifier(f32),
    /// A complaint signal: negative whatever surrounds it ("投诉", "refund now").
    Complaint(f32),
}

/// Positive words.
const POSITIVE: &[(&str, f32)] = &[
    ("好", 1.0),
    ("不错", 1.5),
    ("满意", 2.0),
    ("喜欢", 1.5),
    ("谢谢", 1.0),
    ("感谢", 1.5),
    ("棒", 2.0),
    ("优秀", 2.0),
    ("完美", 2.0),
    ("赞", 1.5),
    ("方便", 1.0),
    ("开心", 2.0),
    ("高兴", 2.0),
    ("给力", 2.0),
    ("专业", 1.5),
    ("耐心", 1.5),
    ("及时", 1.0),
    ("解决了", 1.5),
    ("没问题", 1.0),
    ("好用", 1.5),
    ("靠谱", 1.5),
    ("划算", 1.0),
    ("实惠", 1.0),
    ("清楚", 0.8),
    ("good", 1.0),
    ("great", 2.0),
    ("excellent", 2.0),
    ("love", 2.0),
    ("like", 1.0),
    ("thanks", 1.0),
    ("thank", 1.0),
    ("helpful", 1.5),
    ("happy", 1.5),
    ("satisfied", 2.0),
    ("perfect", 2.0),
    ("awesome", 2.0),
    ("amazing", 2.0),
    ("nice", 1.0),
    ("fast", 1.0),
    ("quick", 1.0),
    ("solved", 1.5),
    ("resolved", 1.5),
    ("appreciate", 1.5),
    ("easy", 1.0),
];

/// Negative words.
const NEGATIVE: &[(&str, f32)] = &[
    ("差", 1.5),
    ("垃圾", 2.5),
    ("烂", 2.0),
    ("失望", 2.0),
    ("生气", 2.0),
    ("愤怒", 2.5),
    ("不满", 2.0),
    ("糟糕", 2.0),
    ("骗子", 2.5),
    ("骗", 2.0),
    ("坑", 1.5),
    ("慢", 1.0),
    ("贵", 0.8),
    ("坏", 1.5),
    ("错", 1.0),
    ("麻烦", 1.0),
    ("无语", 2.0),
    ("恶心", 2.5),
    ("气死", 2.5),
    ("崩溃", 2.0),
    ("难用", 2.0),
    ("欺骗", 2.5),
    ("敷衍", 2.0),
    ("没用", 1.5),
    ("问题", 0.5),
    ("离谱", 2.0),
    ("忽悠", 2.0),
    ("太坑", 2.0),
    ("bad", 1.5),
    ("terrible", 2.5),
    ("awful", 2.5),
    ("horrible", 2.5),
    ("worst", 3.0),
    ("hate", 2.5),
    ("angry", 2.0),
    ("upset", 2.0),
    ("disappointed", 2.0),
    ("disappointing", 2.0),
    ("useless", 2.0),
    ("slow", 1.0),
    ("broken", 1.5),
    ("problem", 0.5),
    ("wrong", 1.0),
    ("poor", 1.5),
    ("rude", 2.0),
    ("ridiculous", 2.0),
    ("unacceptable", 2.5),
    ("frustrated", 2.0),
    ("frustrating", 2.0),
    ("annoying", 1.5),
    ("waste", 1.5),
    ("sucks", 2.0),
];

/// Words that contain a polar word but are not polar ("你好" is a greeting, "不好意思" an
/// apology): matched as the longer word, they keep their parts from counting.
const NEUTRAL: &[&str] = &[
    "你好",
    "您好",
    "好的",
    "好吗",
    "好不好",
    "不好意思",
    "差不多",
    "没关系",
    "问题是",
    "有个问题",
    "一个问题",
    "好像",
    "最好",
    "只好",
    "正好",
    "like to",
    "would like",
];

/// Negators.
const NEGATORS: &[&str] = &[
    "不", "没", "没有", "别", "无", "未", "不是", "并不", "毫不", "not", "no", "never", "don't",
    "dont", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't", "can't", "cannot", "hardly",
];

/// Intensifiers (and softeners below 1).
const INTENSIFIERS: &[(&str, f32)] = &[
    ("很", 1.5),
    ("非常", 1.8),
    ("太", 1.6),
    ("特别", 1.6),
    ("超", 1.5),
    ("超级", 1.8),
    ("极其", 2.0),
    ("十分", 1.6),
    ("真", 1.3),
    ("真的", 1.3),
    ("最", 1.8),
    ("相当", 1.5),
    ("挺", 1.2),
    ("有点", 0.7),
    ("有些", 0.7),
    ("比较", 0.9),
    ("very", 1.5),
    ("so", 1.4),
    ("really", 1.4),
    ("extremely", 2.0),
    ("too", 1.3),
    ("totally", 1.5),
    ("absolutely", 1.6),
    ("super", 1.5),
    ("incredibly", 1.8),
    ("quite", 1.2),
    ("a bit", 0.7),
    ("slightly", 0.6),
];

/// Complaint signals.
const COMPLAINTS: &[(&str, f32)] = &[
    ("投诉", 2.5),
    ("差评", 2.5),
    ("12315", 3.0),
    ("举报", 2.5),
    ("曝光", 2.0),
    ("消协", 2.5),
    ("消费者协会", 2.5),
    ("起诉", 2.5),
    ("律师", 2.0),
    ("维权", 2.5),
    ("退钱", 2.0),
    ("马上退款", 2.5),
    ("立刻退款", 2.5),
    ("赔偿", 1.5),
    ("complaint", 2.5),
    ("complain", 2.0),
    ("refund now", 2.5),
    ("money back", 2.0),
    ("chargeback", 2.5),
    ("lawyer", 2.0),
    ("sue", 2.5),
    ("report you", 2.5),
    ("one star", 2.0),
    ("1 star", 2.0),
];

/// Every entry with its kind (lowercase, half-width, as text is folded).
pub fn entries() -> Vec<(&'static str, Kind)> {
    let mut all = Vec::new();
    all.extend(POSITIVE.iter().map(|&(w, s)| (w, Kind::Polar(s))));
    all.extend(NEGATIVE.iter().map(|&(w, s)| (w, Kind::Polar(-s))));
    all.extend(NEUTRAL.iter().map(|&w| (w, Kind::Polar(0.0))));
    all.extend(NEGATORS.iter().map(|&w| (w, Kind::Negator)));
    all.extend(INTENSIFIERS.iter().map(|&(w, f)| (w, Kind::Intensifier(f))));
    all.extend(COMPLAINTS.iter().map(|&(w, s)| (w, Kind::Complaint(-s))));
    all
}
