//! Words customers use for the same thing in support questions, each mapped to one form so a
//! question and a phrasing that say it differently still share a feature ("付款" and "支付",
//! "账户" and "账号", "parcel" and "package"). Only near-exact synonyms of shop and account
//! support belong here: a pair that is only sometimes the same thing would make unrelated
//! entries look alike. Words are as the analyzer yields them (lowercase, jieba's words).

/// `(word, the form it is matched as)`.
const SYNONYMS: &[(&str, &str)] = &[
    // Chinese
    ("付款", "支付"),
    ("付钱", "支付"),
    ("付费", "支付"),
    ("多长时间", "多久"),
    ("多长", "多久"),
    ("长时间", "多久"),
    ("多少天", "多久"),
    ("几天", "多久"),
    ("账户", "账号"),
    ("帐号", "账号"),
    ("帐户", "账号"),
    ("邮费", "运费"),
    ("快递费", "运费"),
    ("邮资", "运费"),
    ("质保", "保修"),
    ("实体店", "门店"),
    ("线下店", "门店"),
    ("销户", "注销"),
    ("开票", "发票"),
    ("收件", "收货"),
    ("返修", "维修"),
    ("修理", "维修"),
    ("寄出", "发货"),
    ("发出", "发货"),
    ("退钱", "退款"),
    ("尺寸", "尺码"),
    ("码数", "尺码"),
    ("手机号码", "手机号"),
    ("运单号", "单号"),
    ("快递单号", "单号"),
    ("物流单号", "单号"),
    // English
    ("parcel", "package"),
    ("postage", "shipping"),
    ("deliver", "delivery"),
    ("fee", "cost"),
    ("charge", "cost"),
    ("price", "cost"),
    ("receipt", "发票"),
    ("broken", "damaged"),
    ("damage", "damaged"),
    ("sign", "log"),
    ("login", "log"),
    ("remove", "delete"),
    ("erase", "delete"),
    ("swap", "exchange"),
    ("colour", "color"),
    ("reimburse", "退款"),
    ("reimbursement", "退款"),
    ("guarantee", "保修"),
    ("promo", "优惠券"),
    ("discount", "优惠券"),
    ("voucher", "优惠券"),
    ("abroad", "international"),
    ("overseas", "international"),
    ("internationally", "international"),
    ("cancellation", "cancel"),
    ("cancelled", "cancel"),
    ("canceled", "cancel"),
    ("arrived", "arrive"),
    ("arrival", "arrive"),
    // Mixed scripts: the English words Chinese-writing customers use ("wechat支付",
    // "refund 多久到账"), as the Chinese word; an English question still matches English
    // phrasings, which are brought to the same form.
    ("wechat", "微信"),
    ("weixin", "微信"),
    ("alipay", "支付宝"),
    ("invoice", "发票"),
    ("refund", "退款"),
    ("coupon", "优惠券"),
    ("password", "密码"),
    ("warranty", "保修"),
    ("vip", "会员"),
];

/// The form `word` is matched as, when it has a synonym.
pub(super) fn canonical(word: &str) -> Option<&'static str> {
    SYNONYMS.iter().find(|(w, _)| *w == word).map(|(_, c)| *c)
}

/// The English words that have a synonym, so a misspelling of one can be corrected.
pub(super) fn english_words() -> impl Iterator<Item = &'static str> {
    SYNONYMS
        .iter()
        .map(|(w, _)| *w)
        .filter(|w| w.bytes().all(|b| b.is_ascii_lowercase()))
}
