//! # kefu-channel-wechat — WeChat Official Account and WeCom customer service
//!
//! Work in progress: [`crypto`] holds the WXBizMsgCrypt scheme, [`xml`] the safe callback parser.

pub mod crypto;
mod inbound;
pub mod xml;
