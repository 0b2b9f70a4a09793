//! # kefu-channel-wechat — WeChat Official Account and WeCom customer service
//!
//! Two Kefu channel types, each a [`ChannelFactory`](kefu_channel::ChannelFactory) the gateway
//! registers once and mounts under `/channels/<type>`:
//!
//! | type | factory | inbound | outbound |
//! |---|---|---|---|
//! | `wechat` | [`OfficialAccountFactory`] | XML callbacks pushed to `/{inbox_id}` | customer-service message API |
//! | `wecom_kf` | [`WecomKfFactory`] | encrypted notification, then `sync_msg` pull | `kf/send_msg` |
//!
//! ## Official Account (公众号), type `wechat`
//!
//! Settings `{app_id, app_secret, token, encoding_aes_key?, api_base?}`; `app_secret`, `token`
//! and `encoding_aes_key` are secrets.
//!
//! - **URL verification.** When an admin saves the callback URL, WeChat sends
//!   `GET ?signature&timestamp&nonce&echostr`; `signature = sha1(sort(token, timestamp, nonce))`
//!   and Kefu echoes `echostr`.
//! - **Callbacks.** `POST ?signature&timestamp&nonce` with one XML message or event. In plain
//!   mode the signature covers only the query. With an `encoding_aes_key` (safe or compatible
//!   mode) WeChat adds `encrypt_type=aes&msg_signature`, the body carries `<Encrypt>`, and
//!   `msg_signature = sha1(sort(token, timestamp, nonce, Encrypt))` covers the ciphertext, which
//!   is AES-256-CBC with the AppID inside ([`crypto`]). An inbox with a key refuses plain
//!   callbacks, since their signature does not cover the body. In plain mode a captured query
//!   replayed with another body is refused on every node (module `replay`); safe mode is the
//!   recommended one.
//! - **Acknowledgement.** WeChat waits five seconds and retries three times. Kefu answers
//!   `success` only after [`InboundSink::accept`](kefu_channel::InboundSink::accept) stored the
//!   message, 503 when storage is unavailable (WeChat retries), and `success` with a warning
//!   when Kefu rejects the message (a retry cannot help). Dedupe keys: `MsgId`, or
//!   `FromUserName:CreateTime:Event` for events, as the official doc recommends.
//! - **Defences.** Timestamps outside ±5 minutes are refused (bounded replay), bodies over
//!   64 KiB get 413, XML with a DTD or unknown entities is refused ([`xml`]), a ciphertext for
//!   another AppID gets 403, bad signatures 401, malformed bodies 400. Bodies are never logged.
//! - **Replies.** Agents reply through `POST /cgi-bin/message/custom/send`, allowed within 48
//!   hours of the customer's last message (5 replies per message; errcode 45015 and 45047 are
//!   permanent). The access token comes from `GET /cgi-bin/token`, is cached until five minutes
//!   before expiry, refreshed by one caller while concurrent sends wait, and refreshed once more
//!   on 40001/40014/42001. `-1` is transient, 45009 a rate limit.
//! - **Images.** A reply's images are uploaded as temporary material
//!   (`POST /cgi-bin/media/upload?type=image`, multipart field `media`) and sent after the
//!   text as `msgtype: image`; other files cannot be sent to a follower, so such a reply fails
//!   as a whole with `attachment_unsupported` before anything is sent.
//! - **Inbound media** (images, voice, video) arrive as a `MediaId`; Kefu downloads them with
//!   `GET /cgi-bin/media/get` when someone opens the file
//!   ([`Channel::fetch_attachment`](kefu_channel::Channel::fetch_attachment)). Temporary
//!   media are kept three days; an expired id is the permanent `invalid_media_id`.
//!
//! Docs: [receiving messages](https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html),
//! [message encryption](https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md),
//! [customer-service messages](https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage),
//! [access token](https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html),
//! [global return codes](https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
//!
//! ## WeCom customer service (微信客服), type `wecom_kf`
//!
//! Settings `{corp_id, secret, token, encoding_aes_key, open_kfid, api_base?}`; `secret`,
//! `token` and `encoding_aes_key` are secrets.
//!
//! - **URL verification.** `GET ?msg_signature&timestamp&nonce&echostr`: the signature covers
//!   `echostr`, which is decrypted (with the CorpID inside) and the plaintext returned.
//! - **Callbacks** carry no message, only an encrypted `kf_msg_or_event` with a `Token` valid
//!   for ten minutes. Kefu pulls `POST /cgi-bin/kf/sync_msg` from its persisted cursor
//!   (`wecom_kf.cursor`) until `has_more == 0` — pages may be empty while more follow —, stores
//!   customer messages (`origin == 3`, dedupe by `msgid`), saves the cursor after each stored
//!   page and then answers `success`; a storage or API failure answers 503 so WeCom retries
//!   and the next pull resumes where the last stored page ended. When WeCom refuses the pull
//!   itself, Kefu retries without the callback token, then without the cursor (re-reading the
//!   last three days, deduped), so a stale value cannot block the inbox.
//!   [`Channel::run`](kefu_channel::Channel::run) also pulls at start and every ten minutes.
//! - **Replies.** `POST /cgi-bin/kf/send_msg` with `msgid = kefu-<message id>` as idempotency
//!   key (`kefu-<id>-<n>` for a reply's later parts); the token from `GET /cgi-bin/gettoken` is
//!   handled as above. Images (JPG, PNG up to 10 MB) go as `msgtype: image`, other files up to
//!   20 MB as `msgtype: file`, each uploaded first through WeCom's `cgi-bin/media/upload`.
//! - **Inbound media** are downloaded with WeCom's `GET /cgi-bin/media/get`, as above.
//!
//! Docs: [callback crypto](https://developer.work.weixin.qq.com/document/path/90968),
//! [kf callbacks and sync_msg](https://developer.work.weixin.qq.com/document/31078),
//! [send_msg](https://developer.work.weixin.qq.com/document/path/96427),
//! [media upload](https://developer.work.weixin.qq.com/document/path/90253) and
//! [download](https://developer.work.weixin.qq.com/document/path/90254); Official Account
//! [temporary material](https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html).
//!
//! ## Registering
//!
//! ```
//! use kefu_channel::ChannelFactory;
//! use kefu_channel_wechat::{OfficialAccountFactory, WecomKfFactory};
//!
//! let http = reqwest::Client::new(); // the gateway's client, with `tls.extra_root_certs`
//! let factories: Vec<Box<dyn ChannelFactory>> = vec![
//!     Box::new(OfficialAccountFactory::new().with_http_client(http.clone())),
//!     Box::new(WecomKfFactory::new().with_http_client(http)),
//! ];
//! assert_eq!(factories[0].kind().as_str(), "wechat");
//! assert_eq!(factories[1].kind().as_str(), "wecom_kf");
//! ```
//!
//! Provider wire types stay private; only `kefu-channel` envelopes leave this crate. Tests run
//! against every official test vector and a local server speaking the documented API.
#![warn(missing_docs)]

mod api;
mod check;
#[cfg(test)]
mod conformance_tests;
pub mod crypto;
mod errcode;
#[cfg(test)]
mod fuzz_tests;
mod inbound;
mod ingress;
mod kf_msg;
mod media;
#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod mock;
mod official;
mod replay;
mod settings;
mod template;
mod token_store;
mod wecom;
pub mod xml;

pub use ingress::Clock;
pub use official::{KIND as WECHAT_KIND, OfficialAccountFactory};
pub use wecom::{KIND as WECOM_KF_KIND, WecomKfFactory};
