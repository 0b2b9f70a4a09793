//! Quote headers as mail clients write them in the languages Kefu's customers use: the reply
//! must come out alone, whether the header is on one line or wrapped.

use super::trim_quoted;

/// (client and language, the header lines as the client writes them).
const HEADERS: &[(&str, &str)] = &[
    // Gmail (web, Android, iOS).
    (
        "gmail en",
        "On Mon, Mar 4, 2024 at 10:15 AM Anna Smith <anna@example.com> wrote:",
    ),
    (
        "gmail zh",
        "张三 <zhangsan@example.com> 于2024年3月4日周一 10:15写道：",
    ),
    (
        "gmail zh-tw",
        "王小明 <wang@example.com> 於 2024年3月4日 週一 上午10:15寫道：",
    ),
    (
        "gmail ja",
        "2024年3月4日(月) 10:15 山田太郎 <taro@example.com>:",
    ),
    (
        "gmail ko",
        "2024년 3월 4일 (월) 오전 10:15, 김민수 <minsu@example.com>님이 작성:",
    ),
    (
        "gmail ru",
        "пн, 4 мар. 2024 г. в 10:15, Анна Иванова <anna@example.com>:",
    ),
    (
        "gmail ru, wrapped",
        "пн, 4 мар. 2024 г. в 10:15, Анна Иванова\n<anna.ivanova@example.com>:",
    ),
    (
        "gmail de",
        "Am Mo., 4. März 2024 um 10:15 Uhr schrieb Anna Schmidt <anna@example.com>:",
    ),
    (
        "gmail de, wrapped",
        "Am Mo., 4. März 2024 um 10:15 Uhr schrieb Anna Schmidt <\nanna.schmidt@example.com>:",
    ),
    (
        "gmail fr",
        "Le lun. 4 mars 2024 à 10:15, Anna Martin <anna@example.com> a écrit :",
    ),
    (
        "gmail fr, wrapped",
        "Le lun. 4 mars 2024 à 10:15, Anna Martin <anna.martin@example.com> a\nécrit :",
    ),
    (
        "gmail es",
        "El lun, 4 mar 2024 a las 10:15, Ana García (<ana@example.com>) escribió:",
    ),
    (
        "gmail pt",
        "Em seg., 4 de mar. de 2024 às 10:15, Ana Souza <ana@example.com> escreveu:",
    ),
    (
        "gmail pt, wrapped over three lines",
        "Em seg., 4 de mar. de 2024 às 10:15, Departamento de Atendimento ao\nCliente <atendimento.cliente@example.com.br>\nescreveu:",
    ),
    // Apple Mail (macOS, iOS).
    (
        "apple en",
        "On Mar 4, 2024, at 10:15 AM, Anna Smith <anna@example.com> wrote:",
    ),
    (
        "apple zh",
        "在 2024年3月4日，10:15，张三 <zhangsan@example.com> 写道：",
    ),
    (
        "apple ja",
        "2024/03/04 10:15、山田太郎 <taro@example.com>のメール:",
    ),
    (
        "apple ko",
        "2024. 3. 4. 오전 10:15, 김민수 <minsu@example.com> 작성:",
    ),
    (
        "apple ru",
        "4 марта 2024 г., в 10:15, Анна Иванова <anna@example.com> написал(а):",
    ),
    (
        "apple ru, wrapped",
        "4 марта 2024 г., в 10:15, Анна Иванова <anna.ivanova@example.com>\nнаписал(а):",
    ),
    (
        "apple de",
        "Am 04.03.2024 um 10:15 schrieb Anna Schmidt <anna@example.com>:",
    ),
    (
        "apple fr",
        "Le 4 mars 2024 à 10:15, Anna Martin <anna@example.com> a écrit :",
    ),
    (
        "apple es",
        "El 4 mar 2024, a las 10:15, Ana García <ana@example.com> escribió:",
    ),
    (
        "apple pt",
        "Em 4 de mar. de 2024, à(s) 10:15, Ana Souza <ana@example.com> escreveu:",
    ),
    // Thunderbird, Yandex and Mail.ru in Russian.
    ("thunderbird ru", "04.03.2024 10:15, Анна Иванова пишет:"),
    (
        "thunderbird de",
        "Am 04.03.24 um 10:15 schrieb Anna Schmidt:",
    ),
    (
        "yandex ru",
        "04.03.2024, 10:15, \"Анна Иванова\" <anna@example.com>:",
    ),
    (
        "mail.ru ru",
        "Понедельник, 4 марта 2024, 10:15 +03:00 от Анна Иванова <anna@example.com>:",
    ),
    // Outlook's header block, localized.
    (
        "outlook en",
        "________________________________\nFrom: Anna Smith <anna@example.com>\nSent: Monday, March 4, 2024 10:15 AM\nTo: Support <support@example.com>\nSubject: Order 1042",
    ),
    (
        "outlook zh",
        "发件人: 张三 <zhangsan@example.com>\n发送时间: 2024年3月4日 10:15\n收件人: 客服 <kf@example.com>\n主题: 订单 1042",
    ),
    (
        "outlook ja",
        "差出人: 山田太郎 <taro@example.com>\n送信日時: 2024年3月4日 10:15\n宛先: サポート <support@example.com>\n件名: 注文 1042",
    ),
    (
        "outlook ko",
        "보낸 사람: 김민수 <minsu@example.com>\n보낸 날짜: 2024년 3월 4일 월요일 오전 10:15\n받는 사람: 고객지원 <support@example.com>\n제목: 주문 1042",
    ),
    (
        "outlook ru",
        "-----Исходное сообщение-----\nОт: Анна Иванова <anna@example.com>\nОтправлено: 4 марта 2024 г. 10:15\nКому: Поддержка <support@example.com>\nТема: Заказ 1042",
    ),
    (
        "outlook ru, no separator",
        "От: Анна Иванова <anna@example.com>\nОтправлено: понедельник, 4 марта 2024 г. 10:15\nКому: Поддержка <support@example.com>\nТема: Заказ 1042",
    ),
    (
        "outlook de",
        "-----Ursprüngliche Nachricht-----\nVon: Anna Schmidt <anna@example.com>\nGesendet: Montag, 4. März 2024 10:15\nAn: Support <support@example.com>\nBetreff: Bestellung 1042",
    ),
    (
        "outlook fr",
        "-----Message d'origine-----\nDe : Anna Martin <anna@example.com>\nEnvoyé : lundi 4 mars 2024 10:15\nÀ : Support <support@example.com>\nObjet : Commande 1042",
    ),
    (
        "outlook es",
        "De: Ana García <ana@example.com>\nEnviado el: lunes, 4 de marzo de 2024 10:15\nPara: Soporte <support@example.com>\nAsunto: Pedido 1042",
    ),
    (
        "outlook pt",
        "De: Ana Souza <ana@example.com>\nEnviado: segunda-feira, 4 de março de 2024 10:15\nPara: Suporte <support@example.com>\nAssunto: Pedido 1042",
    ),
    // Samsung Email (Android), localized.
    (
        "samsung en",
        "-------- Original message --------\nFrom: Anna Smith <anna@example.com>\nDate: 3/4/24 10:15 (GMT+01:00)\nTo: support@example.com\nSubject: Order 1042",
    ),
    (
        "samsung ru",
        "-------- Исходное сообщение --------\nОт: Анна Иванова <anna@example.com>\nДата: 04.03.2024 10:15 (GMT+03:00)\nКому: support@example.com\nТема: Заказ 1042",
    ),
    (
        "samsung de",
        "-------- Ursprüngliche Nachricht --------\nVon: Anna Schmidt <anna@example.com>\nDatum: 04.03.24 10:15 (GMT+01:00)\nAn: support@example.com\nBetreff: Bestellung 1042",
    ),
    (
        "samsung fr",
        "-------- Message d'origine --------\nDe : Anna Martin <anna@example.com>\nDate : 04/03/2024 10:15 (GMT+01:00)\nÀ : support@example.com\nObjet : Commande 1042",
    ),
    (
        "samsung es",
        "-------- Mensaje original --------\nDe: Ana García <ana@example.com>\nFecha: 4/3/24 10:15 (GMT+01:00)\nPara: support@example.com\nAsunto: Pedido 1042",
    ),
    (
        "samsung pt",
        "-------- Mensagem original --------\nDe: Ana Souza <ana@example.com>\nData: 04/03/2024 10:15 (GMT-03:00)\nPara: support@example.com\nAssunto: Pedido 1042",
    ),
    (
        "samsung ja",
        "-------- オリジナルメッセージ --------\n差出人: 山田太郎 <taro@example.com>\n日付: 2024/03/04 10:15 (GMT+09:00)\n宛先: support@example.com\n件名: 注文 1042",
    ),
    (
        "samsung ko",
        "-------- 원본 메시지 --------\n보낸 사람: 김민수 <minsu@example.com>\n날짜: 24/3/4 오전 10:15 (GMT+09:00)\n받는 사람: support@example.com\n제목: 주문 1042",
    ),
    (
        "samsung zh",
        "-------- 原始信息 --------\n发件人: 张三 <zhangsan@example.com>\n日期: 2024/3/4 10:15 (GMT+08:00)\n收件人: support@example.com\n主题: 订单 1042",
    ),
];

/// Clients whose header ends with the quoted author's address alone, no "wrote" word.
const ADDRESS_ONLY: &[&str] = &["gmail ru", "gmail ja", "yandex ru", "mail.ru ru"];

fn address_only(client: &str) -> bool {
    ADDRESS_ONLY.iter().any(|p| client.starts_with(p))
}

const REPLY: &str = "Спасибо, посылка пришла.\nThanks, it arrived. 谢谢。";

#[test]
fn localized_and_wrapped_headers_are_trimmed() {
    for (client, header) in HEADERS {
        // `>`-quoted history (text/plain as Gmail, Apple Mail and Samsung send it), and the
        // same history unquoted (an HTML-only message turned into text, Outlook).
        let quoted = "> Где мой заказ 1042?\n> Where is my order?\n";
        let unquoted = "Где мой заказ 1042?\nWhere is my order?\n";
        for quote in [quoted, unquoted] {
            if quote == unquoted && address_only(client) {
                continue; // see the next test
            }
            let text = format!("{REPLY}\n\n{header}\n\n{quote}");
            assert_eq!(
                trim_quoted(&text).as_deref(),
                Some(REPLY),
                "{client}, quoted: {}",
                quote == quoted
            );
        }
    }
}

#[test]
fn headers_that_name_only_the_address_need_the_quote_below() {
    // Gmail's Russian and Japanese headers end with the address alone; without `>` quoting
    // after them, such a line could be the customer's own words, so nothing is trimmed.
    for (client, header) in HEADERS.iter().filter(|(c, _)| address_only(c)) {
        let text = format!("{REPLY}\n\n{header}\nГде мой заказ 1042?\n");
        assert_eq!(trim_quoted(&text), None, "{client}");
    }
}

#[test]
fn the_issue_18_android_reply_loses_its_history() {
    // Gmail for Android in Russian, the attribution wrapped before the address.
    let text = "Добрый день! Да, всё верно, адрес тот же.\n\n\
        чт, 5 дек. 2024 г. в 09:41, Служба поддержки Kefu\n\
        <support@kefu.example.com>:\n\n\
        > Здравствуйте! Подтвердите, пожалуйста, адрес доставки.\n\
        >\n\
        > С уважением,\n\
        > Служба поддержки\n";
    assert_eq!(
        trim_quoted(text).as_deref(),
        Some("Добрый день! Да, всё верно, адрес тот же.")
    );
}

#[test]
fn replies_that_only_mention_writing_are_kept() {
    let kept = [
        // Prose that ends like an attribution, with nothing quoted after it.
        "Мой коллега написал:\nзаказ не пришёл.\n",
        "As my colleague wrote:\nthe parcel never came.\n",
        // Inline answers in Russian under a localized header: never cut them away.
        "4 марта 2024 г., в 10:15, Анна <anna@example.com> написал(а):\n\n> Где заказ?\nЕщё не пришёл.\n> Адрес?\nТот же.\n",
        // An address list in the reply, not a header.
        "Пишите на адрес: Анна <anna@example.com>:\nили звоните.\n",
    ];
    for text in kept {
        assert_eq!(trim_quoted(text), None, "{text:?}");
    }
}

#[test]
fn a_header_glued_to_the_reply_keeps_the_reply() {
    // No blank line between the reply and a header with a known opening.
    let text =
        "Да, спасибо.\nOn Mon, Mar 4, 2024 at 10:15 AM Anna <anna@example.com> wrote:\n> Hi\n";
    assert_eq!(trim_quoted(text).as_deref(), Some("Да, спасибо."));
    // Without a known opening, the header begins at the line that holds the date.
    let text =
        "Да, спасибо.\n4 марта 2024 г., в 10:15, Анна <anna@example.com> написал(а):\n> Hi\n";
    assert_eq!(trim_quoted(text).as_deref(), Some("Да, спасибо."));
}
