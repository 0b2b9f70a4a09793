//! # kefu-channel-wechat — WeChat Official Account and WeCom customer service
//!
//! Work in progress.

mod api;
#[cfg(test)]
mod conformance_tests;
pub mod crypto;
mod inbound;
mod ingress;
mod kf_msg;
#[cfg(test)]
mod mock;
mod official;
mod settings;
mod wecom;
pub mod xml;

pub use ingress::Clock;
pub use official::{KIND as WECHAT_KIND, OfficialAccountFactory};
pub use wecom::{KIND as WECOM_KF_KIND, WecomKfFactory};
