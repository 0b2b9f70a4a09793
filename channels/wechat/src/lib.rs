//! # kefu-channel-wechat — WeChat Official Account and WeCom customer service
//!
//! Work in progress: [`crypto`] holds the WXBizMsgCrypt scheme.

pub mod crypto;
